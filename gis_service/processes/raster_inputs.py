"""Raster inputs of processes: a raster collection the caller may read, at a version.

Checked in the request like feature inputs (`inputs.prepare`): a hidden or absent
collection is a 404, a collection of features where a raster is wanted a 400 naming the
input, an unknown version 404 (pruned: 410). The run then opens the version's COG through
`gis_service.rasters` (ids in, never paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.access import Principal, can_read
from ..domain.collection import CollectionInfo
from ..errors import CollectionNotFound, InvalidParameter
from ..store.base import Store
from .schema import Spec, _shown

RASTER_REF = {
    "type": "object",
    "required": ["collection"],
    "properties": {
        "collection": {"type": "string", "description": "a raster collection's id"},
        "version": {"type": "integer", "minimum": 1, "description": "its current by default"},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class RasterRef:
    collection: str
    version: int | None = None


@dataclass(frozen=True)
class RasterSpec(Spec):
    """A raster collection, by id (optionally a version of it)."""

    def schema(self) -> dict[str, Any]:
        return RASTER_REF

    def parse(self, name: str, value: Any) -> RasterRef:
        if not isinstance(value, dict) or "collection" not in value:
            raise InvalidParameter(name, f"must be {{'collection': id}}, got {_shown(value)}")
        unknown = set(value) - set(RASTER_REF["properties"])
        if unknown:
            raise InvalidParameter(name, f"unknown member {sorted(unknown)[0]!r}")
        cid, version = value["collection"], value.get("version")
        if not isinstance(cid, str) or not cid or "\x00" in cid:
            raise InvalidParameter(f"{name}.collection", "must be a collection id")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 1
        ):
            raise InvalidParameter(f"{name}.version", "must be a positive integer")
        return RasterRef(cid, version)


@dataclass
class RasterSource:
    """A checked raster input: the collection at the version the run reads."""

    name: str
    collection: CollectionInfo  # the current metadata (what `open_cog` is given)
    info: CollectionInfo  # the version's own (its grid and bands)
    version: int

    def band(self, asked: str | None, parameter: str = "band") -> int:
        """A band by name or number (the first when not given), or a 400 naming it."""
        assert self.info.raster is not None
        if asked is None:
            return 1
        index = self.info.raster.band_index(asked)
        if index is None:
            names = ", ".join(b.name for b in self.info.raster.bands)
            raise InvalidParameter(parameter, f"{asked[:40]!r} is not a band; the bands: {names}")
        return index

    def provenance(self) -> dict[str, Any]:
        return {"collection": self.info.id, "version": self.version}


def prepare_raster(store: Store, principal: Principal, name: str, ref: RasterRef) -> RasterSource:
    from ..rasters import raster_info_of

    info, policy = store.resolve(ref.collection)
    if not can_read(principal, policy):
        raise CollectionNotFound(ref.collection)  # hidden is indistinguishable from absent
    if not info.is_coverage or info.raster is None:
        raise InvalidParameter(name, f"collection {ref.collection!r} holds features, not a raster")
    version_info = raster_info_of(store, info, ref.version)
    return RasterSource(name, info, version_info, ref.version or info.version)
