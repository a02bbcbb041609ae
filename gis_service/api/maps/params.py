"""A map tile request's parameters: how to draw it (bands, colormap, rescale) and in which
encoding (`f=png|webp`, else the Accept header), checked before anything is read."""

from __future__ import annotations

from fastapi import Request

from ...domain.collection import CollectionInfo
from ...errors import InvalidParameter, NotACoverage
from ...rasters.tiles import FORMATS, PNG, WEBP, TileStyle, parse_rescale, style_for

#: What a map tile (and its tileset, which passes them on to its tiles) takes.
STYLE_PARAMS = frozenset({"colormap", "rescale", "bands"})
TILE_PARAMS = STYLE_PARAMS | {"f"}


def coverage_of(info: CollectionInfo) -> CollectionInfo:
    """The collection, when it is a raster (a collection of features has no map tiles)."""
    if not info.is_coverage or info.raster is None:
        raise NotACoverage(info.id)
    return info


def media_type(request: Request) -> str:
    """`f=png|webp`, else WebP when Accept prefers it to PNG, else PNG."""
    asked = request.query_params.get("f")
    if asked is not None:
        media = FORMATS.get(asked.lower())
        if media is None:
            raise InvalidParameter("f", f"{asked[:20]!r} is not one of png, webp")
        return media
    accept = request.headers.get("accept", "")
    return WEBP if WEBP in accept and PNG not in accept else PNG


def style_params(request: Request) -> dict[str, str]:
    """The drawing parameters given, in a fixed order (for links and cache keys)."""
    qp = request.query_params
    return {name: qp[name] for name in sorted(STYLE_PARAMS) if name in qp}


def parse_style(request: Request, info: CollectionInfo, media: str = PNG) -> TileStyle:
    """The style asked for, the raster's defaults filling in what is not given."""
    qp = request.query_params
    bands_text = qp.get("bands")
    bands = None
    if bands_text is not None:
        bands = bands_text.split(",")
        if not all(bands):
            raise InvalidParameter("bands", "expected band names or numbers separated by commas")
    assert info.raster is not None
    return style_for(
        info.raster, bands, qp.get("colormap"), parse_rescale(qp.get("rescale")), media
    )
