"""The style a collection has until its owner saves one, from its geometry type.

The colour is picked from a palette by the collection's id, so that layers side by side
on one map differ and a layer keeps its colour from one visit to the next.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..domain.collection import CollectionInfo

#: Distinct on a light background and for most colour-blind readers (Okabe-Ito, darkened).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7a5c00", "#444444")
DEFAULT_ID = "default"
STYLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/styles"
POINTS = frozenset({"Point", "MultiPoint"})
LINES = frozenset({"LineString", "MultiLineString"})


def colour_of(collection_id: str) -> str:
    digest = hashlib.blake2b(collection_id.encode(), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def default_style(info: CollectionInfo) -> dict[str, Any]:
    """Points as circles, lines as lines, polygons (and mixed layers) filled and outlined
    (a fill layer draws only polygons, a circle layer only points: no filter needed)."""
    colour, cid = colour_of(info.id), info.id
    source = {"source": cid, "source-layer": cid}
    if info.geometry_type in POINTS:
        layers = [
            {
                "id": f"{cid}-points",
                "type": "circle",
                **source,
                "paint": {
                    "circle-color": colour,
                    "circle-radius": 4,
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1,
                },
            }
        ]
    elif info.geometry_type in LINES:
        layers = [
            {
                "id": f"{cid}-lines",
                "type": "line",
                **source,
                "paint": {"line-color": colour, "line-width": 2},
            }
        ]
    else:
        layers = [
            {
                "id": f"{cid}-fill",
                "type": "fill",
                **source,
                "paint": {"fill-color": colour, "fill-opacity": 0.35},
            },
            {
                "id": f"{cid}-outline",
                "type": "line",
                **source,
                "paint": {"line-color": colour, "line-width": 1},
            },
        ]
        if info.geometry_type not in ("Polygon", "MultiPolygon"):  # mixed: points too
            layers.append(
                {
                    "id": f"{cid}-points",
                    "type": "circle",
                    **source,
                    "paint": {"circle-color": colour, "circle-radius": 4},
                }
            )
    return {
        "version": 8,
        "name": info.title,
        "sources": {cid: {"type": "vector"}},
        "layers": layers,
    }
