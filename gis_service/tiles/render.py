"""One collection's layer of one tile: whole when it is small, generalised when it is not.

A tile whose selection holds at most `MAX_FEATURES` features carries exactly those (the
features `/items` returns for the buffered tile's box), clipped and simplified. A fuller
tile is generalised: points become clusters (one per 8-pixel cell, carrying `count`), and
other geometries under a display pixel are dropped, the `MAX_FEATURES` largest kept.
The index decides from memory which case a tile is and which features a generalised one
keeps: the generation's index, or for a filtered tile of matrices 0 to `FILTERED_INDEX_ZOOM`
one of the filtered selection (built once per generation and selection, from a stream of
its geometries), so that no low-zoom tile reads the whole selection per request. A
filtered tile of a deeper matrix reads the selection in the tile and generalises it as it
comes (its cost grows with what the filter selects there).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ..domain.collection import CollectionInfo
from ..domain.query import BBox, FeatureQuery
from ..store.base import FeatureBoxes, Store
from . import index as tile_index
from .encode import BUFFER, Layer, add, box_shapes, shape
from .grids import EXTENT, Grid

#: A layer of a tile holding more features than this is generalised.
MAX_FEATURES = 2000
#: In a generalised tile, lines and polygons smaller than this part of a tile are dropped.
MIN_SIZE = 1 / 256
#: Filtered tiles up to this matrix come from an index of the filtered selection.
FILTERED_INDEX_ZOOM = tile_index.COARSE_ZOOM
#: In a generalised tile, polygons under this many tile units across (two display pixels)
#: are drawn as their bounding boxes, from the index: at that size a rectangle and the
#: simplified shape differ by under a pixel, and no geometry is parsed, simplified or
#: clipped for them (the bulk of a z6 coverage tile's time, bench/tile_stages.py).
BOX_UNITS = 32
POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
#: Geometry types clustered (a collection of single points; any other is a box index).
POINT_TYPES = frozenset({"Point"})


@dataclass(frozen=True)
class TileSpec:
    """Which tile, and which of a collection's features (the items parameters)."""

    grid: Grid
    z: int
    row: int
    col: int
    query: FeatureQuery = field(default_factory=FeatureQuery)  # interval, equals, filter
    properties: tuple[str, ...] | None = None
    #: The request's parameters, canonical: the key of its selection's index (None: none
    #: given, and a filtered tile then reads its selection in the tile at every zoom).
    selection: Hashable | None = None

    @property
    def filtered(self) -> bool:
        return self.query.filtered

    def bbox(self) -> BBox:
        return BBox(*self.grid.tile_bbox_crs84(self.z, self.row, self.col, BUFFER / EXTENT))


@dataclass
class Rendered:
    layer: Layer
    generalised: bool


class Renderer:
    """Builds layers from a store; every call is blocking (run it in a worker thread)."""

    def __init__(self, store: Store, indexes: tile_index.IndexCache) -> None:
        self.store = store
        self.indexes = indexes

    def index(
        self, info: CollectionInfo, grid: Grid, spec: TileSpec | None = None
    ) -> tile_index.TileIndex:
        """The generation's index; with a filtered `spec`, that of its selection."""
        points = info.geometry_type in POINT_TYPES

        def make() -> tile_index.TileIndex:
            if spec is not None:
                return tile_index.build(self._selection_boxes(info, spec), grid, points)
            boxes = self.store.feature_boxes(collection=info, version=info.version or None)
            return tile_index.build(boxes, grid, points)

        key = (info.id, info.version, grid.id)
        return self.indexes.get(key if spec is None else (*key, spec.selection), make)

    def _selection_boxes(self, info: CollectionInfo, spec: TileSpec) -> FeatureBoxes:
        """The bounds of every feature the spec's filters select (streamed: only ids and
        boxes are kept)."""
        q = spec.query
        query = FeatureQuery(
            interval=q.interval, equals=q.equals, filter=q.filter, version=info.version or None
        )
        fids, bounds = [np.empty(0, np.int64)], [np.empty((0, 4))]
        with self.store.open_stream(collection=info, query=query) as stream:
            for batch in stream:
                geometries = _geometries(batch.wkbs)
                drawn = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
                fids.append(np.asarray(batch.fids, np.int64)[drawn])
                bounds.append(shapely.bounds(geometries[drawn]))
        return FeatureBoxes(np.concatenate(fids), np.concatenate(bounds))

    def layer(self, info: CollectionInfo, spec: TileSpec) -> Rendered:
        if spec.filtered and (spec.z > FILTERED_INDEX_ZOOM or spec.selection is None):
            return self._filtered(info, spec)
        idx = self.index(info, spec.grid, spec if spec.filtered else None)
        count = idx.count(spec.z, spec.row, spec.col)
        if count == 0:
            return Rendered(Layer(info.id), False)
        if count <= MAX_FEATURES:
            return Rendered(self._read(info, spec, self._query(info, spec)), False)
        if isinstance(idx, tile_index.PointIndex):
            return Rendered(
                _cluster_layer(info.id, idx.clusters(spec.z, spec.row, spec.col), spec), True
            )
        fids, world = idx.largest_boxes(
            spec.z, spec.row, spec.col, BUFFER / EXTENT, MAX_FEATURES, MIN_SIZE
        )
        query = FeatureQuery(version=info.version or None, fids=tuple(int(f) for f in fids))
        small = None
        if info.geometry_type in POLYGON_TYPES:
            across = np.maximum(world[:, 2] - world[:, 0], world[:, 3] - world[:, 1])
            tiny = across * 2.0**spec.z * EXTENT < BOX_UNITS
            small = (fids[tiny], world[tiny])
        return Rendered(self._read(info, spec, query, small), True)

    def _query(self, info: CollectionInfo, spec: TileSpec) -> FeatureQuery:
        q = spec.query
        return FeatureQuery(
            bbox=spec.bbox(),
            interval=q.interval,
            equals=q.equals,
            filter=q.filter,
            version=info.version or None,
            bbox_exact=False,  # the box's candidates: `_in_box` and the clip test them
        )

    def _read(
        self,
        info: CollectionInfo,
        spec: TileSpec,
        query: FeatureQuery,
        small: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Layer:
        """The features, shaped; those of `small` (ascending ids, world boxes) as boxes."""
        layer = Layer(info.id)
        for batch in self.store.read_selection(collection=info, query=query):
            wkbs, boxed, at = batch.wkbs, np.zeros(len(batch.fids), bool), None
            if small is not None and len(small[0]):
                ids = np.asarray(batch.fids, np.int64)
                at = np.minimum(np.searchsorted(small[0], ids), len(small[0]) - 1)
                boxed = small[0][at] == ids
                wkbs = [None if b else w for w, b in zip(wkbs, boxed.tolist(), strict=True)]
            geometries = _in_box(_geometries(wkbs), spec)
            geometries = shape(geometries, spec.grid, spec.z, spec.row, spec.col)
            if at is not None and boxed.any():
                geometries[boxed] = box_shapes(small[1][at[boxed]], spec.z, spec.row, spec.col)
            add(layer, batch.fids, geometries, _chosen(batch.columns, spec.properties))
        return layer

    def _filtered(self, info: CollectionInfo, spec: TileSpec) -> Rendered:
        """Read the filtered selection in the tile; generalise it when it is too full."""
        fids: list[int] = []
        wkbs: list[bytes | None] = []
        columns: dict[str, list[Any]] = {}
        for batch in self.store.read_selection(collection=info, query=self._query(info, spec)):
            fids += batch.fids
            wkbs += batch.wkbs
            for name, values in _chosen(batch.columns, spec.properties).items():
                columns.setdefault(name, []).extend(values)
        geometries = _in_box(_geometries(wkbs), spec)
        present = np.flatnonzero(~shapely.is_missing(geometries))
        if len(present) <= MAX_FEATURES:
            layer = Layer(info.id)
            add(layer, fids, shape(geometries, spec.grid, spec.z, spec.row, spec.col), columns)
            return Rendered(layer, False)
        ids = np.asarray(fids, dtype=np.int64)[present]
        chosen = geometries[present]
        if info.geometry_type in POINT_TYPES:
            wx, wy = spec.grid.to_world(shapely.get_x(chosen), shapely.get_y(chosen))
            points = tile_index.point_index(ids, wx, wy, spec.grid).points
            cells = points.clustered(spec.z + tile_index.CELL_BITS)
            return Rendered(_cluster_layer(info.id, cells, spec), True)
        boxes = tile_index.build_boxes(ids, shapely.bounds(chosen), spec.grid)
        keep = set(
            boxes.largest(
                spec.z, spec.row, spec.col, BUFFER / EXTENT, MAX_FEATURES, MIN_SIZE
            ).tolist()
        )
        rows = [i for i in range(len(fids)) if fids[i] in keep]
        layer = Layer(info.id)
        kept = {name: [values[i] for i in rows] for name, values in columns.items()}
        add(
            layer,
            [fids[i] for i in rows],
            shape(geometries[rows], spec.grid, spec.z, spec.row, spec.col),
            kept,
        )
        return Rendered(layer, True)


def _geometries(wkbs: list[bytes | None]) -> np.ndarray:
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def _in_box(geometries: np.ndarray, spec: TileSpec) -> np.ndarray:
    """Points outside the buffered tile (the index's candidates round outwards) become
    None; lines and polygons are left to the clip, which empties those that miss it."""
    kinds = shapely.get_type_id(geometries)
    points = np.flatnonzero((kinds == 0) | (kinds == 4))
    if len(points):
        box = shapely.box(*spec.bbox().parts()[0])  # tiles never cross the antimeridian
        outside = points[~shapely.intersects(geometries[points], box)]
        if len(outside):
            geometries = geometries.copy()
            geometries[outside] = None
    return geometries


def _chosen(columns: dict[str, list[Any]], names: tuple[str, ...] | None) -> dict[str, list[Any]]:
    if names is None:
        return columns
    return {name: columns[name] for name in names if name in columns}


def _cluster_layer(name: str, cells: tile_index.Cells, spec: TileSpec) -> Layer:
    layer = Layer(name)
    if len(cells.codes) == 0:
        return layer
    scale = 2.0**spec.z * EXTENT
    x = np.rint(cells.sx / cells.counts * scale - spec.col * EXTENT)
    y = np.rint(cells.sy / cells.counts * scale - spec.row * EXTENT)
    layer.fids = [int(f) for f in cells.fids]
    layer.geometries = list(shapely.points(np.column_stack((x, y))))
    layer.columns = {"count": [int(n) for n in cells.counts]}
    return layer
