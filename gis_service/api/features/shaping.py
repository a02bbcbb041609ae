"""`properties` and `skipGeometry`: which parts of each feature a response carries.

Applied after the store answers, on pages and downloads alike; the stores always return
whole features, so sort keys and cursors never depend on what a client chose to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ...domain.collection import CollectionInfo
from ...errors import InvalidParameter
from ...store.base import Feature

SHAPING_PARAMS = frozenset({"properties", "skipGeometry"})


@dataclass(frozen=True)
class Shaping:
    properties: tuple[str, ...] | None = None  # None: all of them
    skip_geometry: bool = False

    def apply(self, features: list[Feature]) -> list[Feature]:
        """Copies with only the chosen properties (and no geometry when skipped)."""
        if self.properties is None and not self.skip_geometry:
            return features
        names = self.properties
        return [
            Feature(
                fid=f.fid,
                wkb=None if self.skip_geometry else f.wkb,
                properties=f.properties
                if names is None
                else {n: f.properties[n] for n in names if n in f.properties},
            )
            for f in features
        ]


def parse_shaping(request: Request, info: CollectionInfo) -> Shaping:
    qp = request.query_params
    properties: tuple[str, ...] | None = None
    if "properties" in qp:
        text = qp["properties"].strip()
        names = [n.strip() for n in text.split(",")] if text else []
        for name in names:
            if not name:
                raise InvalidParameter("properties", f"empty property name in {text!r}")
            if info.prop(name) is None:
                raise InvalidParameter(
                    "properties", f"{name!r} is not a property of this collection"
                )
        properties = tuple(dict.fromkeys(names))
    skip = qp.get("skipGeometry")
    if skip is not None and skip.lower() not in ("true", "false"):
        raise InvalidParameter("skipGeometry", f"expected true or false, got {skip!r}")
    return Shaping(properties=properties, skip_geometry=skip is not None and skip.lower() == "true")
