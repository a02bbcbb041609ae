"""Feature inputs: a collection the caller may read (plus filter), or inline GeoJSON.

`prepare` runs in the request, before any job exists: an unknown or hidden collection is a
404 there (as everywhere: `get_resolved`), a bad filter a 400 naming `<input>.filter`.
`batches` then reads through the store's own stream (the filter, and a box when the
process knows where it looks, pushed down to the store's indexes), keeping only the
columns the process needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import shapely

from ..domain.access import Principal, can_read
from ..domain.collection import CollectionInfo, PropertyDef, PropertyType
from ..domain.filters import parse_filter
from ..domain.query import BBox, FeatureQuery
from ..errors import CollectionNotFound, InvalidParameter
from ..store.base import Store
from .limits import Budget
from .schema import CollectionRef, Inline

Box = tuple[float, float, float, float]


@dataclass
class Layer:
    """Features as arrays: ids, CRS84 Shapely geometries, and the columns asked for."""

    ids: np.ndarray
    geoms: np.ndarray
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geoms)

    def take(self, index: np.ndarray) -> Layer:
        cols = {k: [v[i] for i in index] for k, v in self.columns.items()}
        return Layer(self.ids[index], self.geoms[index], cols)

    @staticmethod
    def join(parts: list[Layer], names: list[str]) -> Layer:
        if not parts:
            return Layer(np.zeros(0, np.int64), np.empty(0, object), {n: [] for n in names})
        cols = {n: [v for p in parts for v in p.columns[n]] for n in names}
        return Layer(
            np.concatenate([p.ids for p in parts]), np.concatenate([p.geoms for p in parts]), cols
        )


@dataclass
class Source:
    """A checked feature input: where it comes from and its properties' types."""

    name: str
    properties: list[PropertyDef]
    info: CollectionInfo | None = None
    predicate: Any = None
    inline: Layer | None = None

    def prop_type(self, name: str) -> PropertyType | None:
        return next((p.type for p in self.properties if p.name == name), None)

    def provenance(self) -> dict[str, Any]:
        """What a saved result records of this input."""
        if self.info is None:
            return {"inline": len(self.inline or ())}
        out: dict[str, Any] = {"collection": self.info.id, "version": self.info.version}
        if self.predicate is not None:
            out["filtered"] = True
        return out


def prepare(store: Store, principal: Principal, name: str, value: CollectionRef | Inline) -> Source:
    if isinstance(value, Inline):
        layer, props = _inline(name, value)
        return Source(name, props, inline=layer)
    info, policy = store.resolve(value.collection)
    if not can_read(principal, policy):
        raise CollectionNotFound(value.collection)  # hidden is indistinguishable from absent
    if info.is_coverage:
        raise InvalidParameter(name, f"collection {value.collection!r} is a raster, not features")
    text = value.filter
    if isinstance(text, dict):
        text = orjson.dumps(text).decode()
    try:
        predicate = parse_filter(text, value.lang, None, info)
    except InvalidParameter as exc:
        detail = exc.detail.partition(": ")[2] or exc.detail
        raise InvalidParameter(f"{name}.{exc.parameter}", detail) from exc
    return Source(name, list(info.properties), info=info, predicate=predicate)


def _inline(name: str, value: Inline) -> tuple[Layer, list[PropertyDef]]:
    texts = [orjson.dumps(f["geometry"]) for f in value.features]
    try:
        geoms = (
            shapely.from_geojson(np.array(texts, dtype=object)) if texts else np.empty(0, object)
        )
    except shapely.errors.GEOSException as exc:
        raise InvalidParameter(name, f"a geometry is not valid GeoJSON: {exc}") from exc
    if len(geoms) and (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        raise InvalidParameter(name, "every feature needs a non-empty geometry")
    bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
    if len(bounds) and (
        (np.abs(bounds[:, [0, 2]]) > 180).any() or (np.abs(bounds[:, [1, 3]]) > 90).any()
    ):
        raise InvalidParameter(name, "coordinates must be CRS84 longitude, latitude")
    geoms = shapely.make_valid(geoms) if len(geoms) else geoms
    names = sorted({k for f in value.features for k in (f.get("properties") or {})})
    columns = {n: [(f.get("properties") or {}).get(n) for f in value.features] for n in names}
    props = [PropertyDef(name=n, type=_kind(columns[n])) for n in names]
    ids = np.arange(1, len(geoms) + 1, dtype=np.int64)
    return Layer(ids, geoms, columns), props


def _kind(values: list[Any]) -> PropertyType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return PropertyType.BOOLEAN
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return PropertyType.INTEGER
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return PropertyType.NUMBER
    return PropertyType.STRING


def batches(
    store: Store,
    source: Source,
    budget: Budget,
    names: list[str],
    box: Box | None = None,
    held: bool = True,
) -> Iterator[Layer]:
    """The input's features in batches, holding only `names`; counted in `budget` unless
    the caller lets each batch go (`held=False`: it keeps a summary, or what it chose)."""
    if source.inline is not None:
        budget.hold(len(source.inline))
        yield Layer(
            source.inline.ids,
            source.inline.geoms,
            {n: source.inline.columns.get(n, [None] * len(source.inline)) for n in names},
        )
        return
    assert source.info is not None
    query = FeatureQuery(filter=source.predicate, version=source.info.version or None)
    if box is not None and not _covers(box, source.info.bbox):
        query.bbox = BBox(*box)  # the index selects; a box around it all would only slow it
    with store.open_stream(collection=source.info, query=query) as stream:
        for batch in stream:
            if held:
                budget.hold(len(batch))
            else:
                budget.check()
            yield _layer(batch, names)


def _covers(box: Box, extent: tuple[float, float, float, float] | None) -> bool:
    if extent is None:
        return False
    return (
        box[0] <= extent[0] and box[1] <= extent[1] and box[2] >= extent[2] and box[3] >= extent[3]
    )


def _layer(batch: Any, names: list[str]) -> Layer:
    if batch.columnar:
        ids = np.asarray(batch.fid_array.to_numpy(zero_copy_only=False), dtype=np.int64)
        wkbs = batch.wkb_array.to_numpy(zero_copy_only=False)
        cols = {n: batch.arrays[n].to_pylist() for n in names}
    else:
        ids = np.asarray(batch.fids, dtype=np.int64)
        wkbs = np.array(batch.wkbs, dtype=object)
        cols = {n: batch.columns[n] for n in names}
    geoms = shapely.from_wkb(wkbs)
    keep = ~shapely.is_missing(geoms)  # features without a geometry take no part
    if not keep.all():
        index = np.flatnonzero(keep)
        return Layer(ids[index], geoms[index], {k: [v[i] for i in index] for k, v in cols.items()})
    return Layer(ids, geoms, cols)


def load(
    store: Store, source: Source, budget: Budget, names: list[str], box: Box | None = None
) -> Layer:
    return Layer.join(list(batches(store, source, budget, names, box)), names)


def check_names(source: Source, name: str, names: list[str], numeric: bool = False) -> None:
    """Properties a process was asked to use must exist (and be numbers where it sums)."""
    for prop in names:
        kind = source.prop_type(prop)
        if kind is None:
            raise InvalidParameter(name, f"{prop!r} is not a property of {source.name}")
        if numeric and kind not in (PropertyType.INTEGER, PropertyType.NUMBER):
            raise InvalidParameter(name, f"{prop!r} is not a number")


def columns_for(
    store: Store, source: Source, budget: Budget, ids: np.ndarray, names: list[str]
) -> dict[str, list[Any]]:
    """The `names` columns of the features `ids` (in that order, repeats allowed): a
    second, indexed read by feature id, so a large input's search held only geometries."""
    if not names:
        return {}
    wanted = np.unique(ids)
    found: dict[int, int] = {}
    parts: list[Layer] = []
    if source.inline is not None:
        position = {int(fid): i for i, fid in enumerate(source.inline.ids)}
        rows = [position[int(fid)] for fid in ids]
        return {
            n: [source.inline.columns.get(n, [None] * len(position))[r] for r in rows]
            for n in names
        }
    assert source.info is not None
    for start in range(0, len(wanted), 20_000):
        chunk = tuple(int(v) for v in wanted[start : start + 20_000])
        query = FeatureQuery(version=source.info.version or None, fids=chunk)
        with store.open_stream(collection=source.info, query=query) as stream:
            for batch in stream:
                budget.check()
                layer = _layer_all(batch, names)
                base = sum(len(p) for p in parts)
                found.update({int(fid): base + i for i, fid in enumerate(layer.ids)})
                parts.append(layer)
    joined = {n: [v for p in parts for v in p.columns[n]] for n in names}
    rows = [found.get(int(fid)) for fid in ids]
    return {n: [joined[n][r] if r is not None else None for r in rows] for n in names}


def _layer_all(batch: Any, names: list[str]) -> Layer:
    """A batch's ids and columns, geometry or not."""
    if batch.columnar:
        ids = np.asarray(batch.fid_array.to_numpy(zero_copy_only=False), dtype=np.int64)
        cols = {n: batch.arrays[n].to_pylist() for n in names}
    else:
        ids = np.asarray(batch.fids, dtype=np.int64)
        cols = {n: batch.columns[n] for n in names}
    return Layer(ids, np.empty(len(ids), object), cols)
