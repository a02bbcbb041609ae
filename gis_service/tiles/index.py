"""Per-generation tile indexes: how many features each tile holds, without the store.

A published generation never changes, so its index is built once (from the stores'
`feature_boxes`, an R-tree read, no geometry parsed) and kept in a bounded LRU. With it
an empty tile is answered without a query, and a tile too full to send whole is
generalised from the index alone (points) or from the few features it picks (others).

Point layers are sorted by a Morton code of their position at `LEVEL`, so the points of
any quadtree tile are one contiguous range (two binary searches), and a tile's clusters are
runs of equal code prefixes. The tiles of matrices 0 to `COARSE_ZOOM` are clustered from a
pre-aggregated copy (one entry per cell of a `COARSE_ZOOM` tile), never from every point.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from ..store.base import FeatureBoxes
from .grids import Grid

#: Quadtree depth of the Morton codes (a cell ~0.6 m in WebMercatorQuad); the extra bit
#: for WorldCRS84Quad's two columns still fits 64 bits.
LEVEL = 26
#: A generalised tile is cut in 2**CELL_BITS cells a side (8 display pixels of 256).
CELL_BITS = 5
#: Matrices up to this one are clustered from the pre-aggregated copy.
COARSE_ZOOM = 6
#: How many crowded tiles of one matrix BoxIndex.crowded follows (see there).
FRONTIER = 4096


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of 32-bit integers moved to the even positions of 64-bit ones."""
    v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def morton(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Interleaved (row, col) bits: a quadtree node's descendants share its prefix."""
    return (_spread(row) << np.uint64(1)) | _spread(col)


@dataclass
class Cells:
    """Positions (or cell aggregates) in Morton order: `counts` points at mean (wx, wy)."""

    codes: np.ndarray
    fids: np.ndarray
    counts: np.ndarray
    sx: np.ndarray  # sums of world x
    sy: np.ndarray

    def span(self, z: int, row: int, col: int) -> slice:
        shift = np.uint64(2 * (LEVEL - z))
        node = morton(np.array([col]), np.array([row]))[0]
        lo = np.searchsorted(self.codes, node << shift, side="left")
        hi = np.searchsorted(self.codes, (node + np.uint64(1)) << shift, side="left")
        return slice(int(lo), int(hi))

    def count(self, z: int, row: int, col: int) -> int:
        return int(self.counts[self.span(z, row, col)].sum())

    def clustered(self, depth: int, part: slice | None = None) -> Cells:
        """One entry per cell of quadtree depth `depth` (codes kept at LEVEL)."""
        part = part or slice(None)
        codes, counts = self.codes[part], self.counts[part]
        if len(codes) == 0:
            return self
        shift = np.uint64(2 * (LEVEL - depth))
        cell = codes >> shift
        starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
        return Cells(
            codes=cell[starts] << shift,
            fids=self.fids[part][starts],
            counts=np.add.reduceat(counts, starts),
            sx=np.add.reduceat(self.sx[part], starts),
            sy=np.add.reduceat(self.sy[part], starts),
        )


def crowded_zooms(codes: np.ndarray, limit: int, max_zoom: int) -> list[int]:
    """The tile matrices where some tile holds more than `limit` of the sorted codes."""
    out = []
    for z in range(max_zoom + 1):
        tiles = codes >> np.uint64(2 * (LEVEL - z))
        starts = np.flatnonzero(np.concatenate(([True], tiles[1:] != tiles[:-1], [True])))
        if len(starts) < 2 or np.diff(starts).max() <= limit:
            break  # deeper tiles only hold fewer
        out.append(z)
    return out


@dataclass
class PointIndex:
    points: Cells
    coarse: Cells  # aggregated to the cells of COARSE_ZOOM tiles
    _crowded: dict = field(default_factory=dict, repr=False)  # (limit, max_zoom) -> zooms

    def crowded(self, limit: int, max_zoom: int) -> list[int]:
        key = (limit, max_zoom)
        if key not in self._crowded:
            self._crowded[key] = crowded_zooms(self.points.codes, limit, max_zoom)
        return self._crowded[key]

    def count(self, z: int, row: int, col: int) -> int:
        return self.points.count(z, row, col)

    def clusters(self, z: int, row: int, col: int) -> Cells:
        source = self.coarse if z <= COARSE_ZOOM else self.points
        return source.clustered(z + CELL_BITS, source.span(z, row, col))

    @property
    def size(self) -> int:
        return len(self.points.codes)


@dataclass
class BoxIndex:
    """Any geometry type: ids and world-unit boxes (x0, y0 top-left; x1, y1 bottom-right)."""

    fids: np.ndarray
    boxes: np.ndarray  # n x 4
    _crowded: dict = field(default_factory=dict, repr=False)  # (limit, max_zoom) -> zooms

    def select(self, z: int, row: int, col: int, buffer: float = 0.0) -> np.ndarray:
        size = 2.0**z
        x0, y0 = (col - buffer) / size, (row - buffer) / size
        x1, y1 = (col + 1 + buffer) / size, (row + 1 + buffer) / size
        b = self.boxes
        return np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0))

    def count(self, z: int, row: int, col: int) -> int:
        return len(self.select(z, row, col))

    def crowded(self, limit: int, max_zoom: int) -> list[int]:
        """The matrices where some tile touches more than `limit` boxes (as `count` does).

        Descends from matrix 0 through the crowded tiles only: a child touches no box its
        parent does not, so the first matrix without a crowded tile ends the search. Past
        `FRONTIER` crowded tiles in one matrix (thousands of tiles of thousands of
        features: only ever with that many large overlapping features), the deeper
        matrices are taken as crowded too."""
        known = self._crowded.get((limit, max_zoom))
        if known is not None:
            return known
        out: list[int] = []
        columns = 2 if (self.boxes[:, 2] > 1).any() else 1  # WorldCRS84Quad's matrix 0
        frontier = [(0, c, self.select(0, 0, c)) for c in range(columns)]
        for z in range(max_zoom + 1):
            frontier = [t for t in frontier if len(t[2]) > limit]
            if not frontier:
                break
            out.append(z)
            if len(frontier) > FRONTIER:
                out.extend(range(z + 1, max_zoom + 1))
                break
            frontier = [child for tile in frontier for child in self._children(z, *tile)]
        self._crowded[(limit, max_zoom)] = out
        return out

    def _children(self, z: int, row: int, col: int, chosen: np.ndarray) -> list:
        """The four tiles of matrix z + 1 under (row, col), each with the boxes it touches."""
        size = 2.0 ** (z + 1)
        b = self.boxes[chosen]
        out = []
        for r in (2 * row, 2 * row + 1):
            rows = (b[:, 1] <= (r + 1) / size) & (b[:, 3] >= r / size)
            for c in (2 * col, 2 * col + 1):
                cols = (b[:, 0] <= (c + 1) / size) & (b[:, 2] >= c / size)
                out.append((r, c, chosen[rows & cols]))
        return out

    def largest(self, z: int, row: int, col: int, buffer: float, keep: int, min_size: float):
        """Ids of at most `keep` features over the tile, largest first, none under
        `min_size` of a tile across (points, of size 0, come last but are kept)."""
        return self.fids[self._largest(z, row, col, buffer, keep, min_size)]

    def largest_boxes(
        self, z: int, row: int, col: int, buffer: float, keep: int, min_size: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """`largest`'s ids (ascending) and their world-unit boxes."""
        chosen = self._largest(z, row, col, buffer, keep, min_size)
        return self.fids[chosen], self.boxes[chosen]

    def _largest(
        self, z: int, row: int, col: int, buffer: float, keep: int, min_size: float
    ) -> np.ndarray:
        chosen = self.select(z, row, col, buffer)
        b = self.boxes[chosen]
        extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * 2.0**z
        visible = (extent >= min_size) | (extent == 0)
        chosen, extent = chosen[visible], extent[visible]
        if len(chosen) > keep:
            top = np.argpartition(-extent, keep - 1)[:keep]
            chosen = chosen[top]
        return chosen[np.argsort(self.fids[chosen], kind="stable")]

    @property
    def size(self) -> int:
        return len(self.fids)


TileIndex = PointIndex | BoxIndex


def build(boxes: FeatureBoxes, grid: Grid, points: bool) -> TileIndex:
    """`points`: every geometry is a single point (its box is the point)."""
    b = boxes.bounds
    if points:
        wx, wy = grid.to_world(*_clamped(grid, b[:, 0], b[:, 1]))
        return point_index(boxes.fids, wx, wy, grid)
    return build_boxes(boxes.fids, b, grid)


def build_boxes(fids: np.ndarray, bounds: np.ndarray, grid: Grid) -> BoxIndex:
    """A BoxIndex from ids and CRS84 bounds (n x 4: minx, miny, maxx, maxy)."""
    x0, y0 = grid.to_world(*_clamped(grid, bounds[:, 0], bounds[:, 3]))
    x1, y1 = grid.to_world(*_clamped(grid, bounds[:, 2], bounds[:, 1]))
    return BoxIndex(fids, np.column_stack([x0, y0, x1, y1]))


def point_index(fids: np.ndarray, wx: np.ndarray, wy: np.ndarray, grid: Grid) -> PointIndex:
    scale = 2.0**LEVEL
    ix = np.clip((wx * scale).astype(np.int64), 0, grid.width0 * 2**LEVEL - 1)
    iy = np.clip((wy * scale).astype(np.int64), 0, 2**LEVEL - 1)
    codes = morton(ix, iy)
    order = np.argsort(codes, kind="stable")
    cells = Cells(codes[order], fids[order], np.ones(len(order), np.int64), wx[order], wy[order])
    return PointIndex(cells, cells.clustered(COARSE_ZOOM + CELL_BITS))


def _clamped(grid: Grid, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    west, south, east, north = grid.tms.bbox
    return np.clip(lon, west, east), np.clip(lat, south, north)


class IndexCache:
    """Indexes by (collection, generation, tile matrix set[, selection]), at most
    `capacity` features.

    Building one takes a second per million features: concurrent requests for the same
    generation wait for the one build rather than each making their own.
    """

    def __init__(self, capacity: int = 5_000_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, TileIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], TileIndex]) -> TileIndex:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                found = self._items.get(key)
            if found is not None:
                return found
            index = make()
            with self._lock:
                self._items[key] = index
                self._building.pop(key, None)
                self._evict()
            return index

    def _evict(self) -> None:
        total = sum(i.size for i in self._items.values())
        while len(self._items) > 1 and total > self.capacity:
            _key, dropped = self._items.popitem(last=False)
            total -= dropped.size
