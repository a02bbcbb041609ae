"""The tile matrix sets the service offers, from morecantile's registry of the OGC ones.

morecantile carries the OGC Tile Matrix Set 2.0 definitions and their arithmetic (tile
bounds, matrix sizes), so no grid is written by hand here. Only quadtree sets are offered:
the generalisation (`tiles.generalise`) and the point index (`tiles.index`) rely on each
tile splitting into four at the next matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import morecantile
import numpy as np

from ..errors import InvalidParameter, NotFound

#: The sets offered, in the order `/tileMatrixSets` lists them.
OFFERED = ("WebMercatorQuad", "WorldCRS84Quad")
#: The deepest tile matrix served (~2 m per pixel in WebMercatorQuad).
MAX_ZOOM = 22
#: MVT coordinates per tile side (the MVT default, 16 per display pixel of a 256 px tile).
EXTENT = 4096
#: Closed-form projections (`Grid._projection`).
MERCATOR, PLATE_CARREE = "mercator", "plate-carree"


class TileMatrixSetNotFound(NotFound):
    def __init__(self, tms_id: str) -> None:
        super().__init__(
            f"tile matrix set {tms_id!r} is not offered; choose one of {', '.join(OFFERED)}"
        )


class TileNotFound(NotFound):
    """Indexes outside the tile matrix: no such tile exists."""


@dataclass(frozen=True)
class Grid:
    """One offered tile matrix set and the projection of CRS84 coordinates into it.

    Coordinates are given in "world units": the top-left corner of matrix 0 is (0, 0) and
    a tile of matrix z is `1 / 2**z` across, so that matrix z tile (row, col) spans
    [col, col + 1] x [row, row + 1] after multiplying by `2**z` (rows grow downwards).
    """

    tms: morecantile.TileMatrixSet
    #: matrix 0's width in tiles (2 for WorldCRS84Quad), its height being 1.
    width0: int

    @property
    def id(self) -> str:
        return str(self.tms.id)

    @property
    def uri(self) -> str:
        return str(self.tms.uri or "")

    @property
    def crs_uri(self) -> str:
        return str(self.tms.crs.root) if hasattr(self.tms.crs, "root") else str(self.tms.crs)

    def check(self, matrix: str, row: str, col: str) -> tuple[int, int, int]:
        """The tile's (z, row, col) as integers, or a 4xx naming what is wrong."""
        z = _index("tileMatrix", matrix)
        if z > MAX_ZOOM:
            raise InvalidParameter(
                "tileMatrix", f"{matrix!r} is not a tile matrix of {self.id} (0-{MAX_ZOOM})"
            )
        r, c = _index("tileRow", row), _index("tileCol", col)
        height, width = 2**z, self.width0 * 2**z
        if r >= height or c >= width:
            raise TileNotFound(
                f"tile {z}/{r}/{c} is outside tile matrix {z} of {self.id}"
                f" (rows 0-{height - 1}, columns 0-{width - 1})"
            )
        return z, r, c

    def to_world(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CRS84 longitude/latitude arrays in world units (see the class)."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        if self._projection == MERCATOR:
            x = (lon + 180.0) / 360.0
            y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2.0
            return x, y
        return (lon + 180.0) / 180.0, (90.0 - lat) / 180.0  # PLATE_CARREE

    def tile_bbox_crs84(self, z: int, row: int, col: int, buffer: float = 0.0) -> tuple:
        """The tile's CRS84 bounds, grown by `buffer` of a tile on each side (clamped)."""
        left, top = col - buffer, row - buffer
        right, bottom = col + 1 + buffer, row + 1 + buffer
        size = 2**z
        west, north = self.to_crs84(left / size, top / size)
        east, south = self.to_crs84(right / size, bottom / size)
        return (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))

    def to_crs84(self, wx: float, wy: float) -> tuple[float, float]:
        wx, wy = min(max(wx, 0.0), float(self.width0)), min(max(wy, 0.0), 1.0)
        if self._projection == MERCATOR:
            return wx * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * wy))))
        return wx * 180.0 - 180.0, 90.0 - wy * 180.0  # PLATE_CARREE

    def degrees_per_unit(self, z: int, row: int) -> float:
        """The fewest CRS84 degrees (along either axis) that one tile unit of matrix z spans
        anywhere in the row: a tolerance in tile units times this never exceeds itself in
        the tile."""
        units = 2.0**z * EXTENT
        if self._projection == PLATE_CARREE:
            return 180.0 / units
        margin = 1 / 32  # of a tile: beyond the clip's buffer
        north = self.to_crs84(0.0, (row - margin) / 2**z)[1]
        south = self.to_crs84(0.0, (row + 1 + margin) / 2**z)[1]
        edge = max(abs(north), abs(south))  # Mercator stretches latitude by 1/cos
        return 360.0 / units * math.cos(math.radians(edge))

    @cached_property
    def _projection(self) -> str:
        """How CRS84 maps onto the grid, in closed form (pyproj's per-call setup was a fifth
        of a 2,000-polygon tile's time, py-spy on W6); tests/tiles/test_index.py holds both
        to morecantile's answers. A set offered without one fails as `grid` builds it."""
        crs = self.tms.crs._pyproj_crs
        b = self.tms.xy_bbox
        frame = tuple(round(v, 6) for v in (b.left, b.top, b.top - b.bottom))
        if crs.to_epsg() == 3857 and frame == (-20037508.342789, 20037508.342789, 40075016.685578):
            return MERCATOR
        if crs.is_geographic and frame == (-180.0, 90.0, 180.0):
            return PLATE_CARREE
        raise ValueError(f"tile matrix set {self.id} has no closed-form projection here")

    def tile_of(self, z: int, lon: float, lat: float) -> tuple[int, int]:
        """(row, col) of the matrix-z tile holding a CRS84 position (clamped to the grid)."""
        wx, wy = self.to_world(np.array([lon]), np.array([lat]))
        size = 2**z
        col = int(min(max(wx[0] * size, 0), self.width0 * size - 1))
        row = int(min(max(wy[0] * size, 0), size - 1))
        return row, col

    def document(self) -> dict[str, Any]:
        """The Tile Matrix Set 2.0 JSON encoding, matrices 0 to MAX_ZOOM."""
        doc = self.tms.model_dump(mode="json", exclude_none=True)
        doc["tileMatrices"] = [m for m in doc["tileMatrices"] if int(m["id"]) <= MAX_ZOOM]
        return doc


def _index(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidParameter(name, f"{text!r} is not a non-negative integer")
    return int(text)


@cache
def grid(tms_id: str) -> Grid:
    """An offered set by id; TileMatrixSetNotFound (404) for any other."""
    if tms_id not in OFFERED:
        raise TileMatrixSetNotFound(tms_id)
    tms = morecantile.tms.get(tms_id)
    made = Grid(tms=tms, width0=int(tms.matrix(0).matrixWidth))
    made._projection  # noqa: B018 - decided (or refused) once, as the set is built
    return made


def grids() -> list[Grid]:
    return [grid(tms_id) for tms_id in OFFERED]
