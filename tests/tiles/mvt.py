"""Tile arithmetic for the tests, from morecantile (independent of gis_service.tiles)."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile

EXTENT = 4096
BUFFER = 64 / EXTENT  # of a tile, as the service documents in its tileset metadata


def decode(body: bytes) -> dict[str, dict]:
    """Layers by name, in tile coordinates with y downwards (MVT's own orientation)."""
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def tile_of(tms_id: str, lon: float, lat: float, z: int) -> tuple[int, int]:
    """(row, col) of the tile holding a position."""
    t = morecantile.tms.get(tms_id).tile(lon, lat, z)
    return t.y, t.x


def bbox(tms_id: str, z: int, row: int, col: int, buffer: float = 0.0) -> tuple:
    """The tile's CRS84 bounds, grown by `buffer` of a tile on each side."""
    tms = morecantile.tms.get(tms_id)
    b = tms.xy_bounds(morecantile.Tile(col, row, z))
    dx, dy = (b.right - b.left) * buffer, (b.top - b.bottom) * buffer
    west, south = tms.lnglat(b.left - dx, b.bottom - dy)
    east, north = tms.lnglat(b.right + dx, b.top + dy)
    return west, south, east, north


def pixel(tms_id: str, z: int, row: int, col: int, lon: float, lat: float) -> tuple[float, float]:
    """A position in the tile's MVT coordinates (0..4096, y down)."""
    tms = morecantile.tms.get(tms_id)
    b = tms.xy_bounds(morecantile.Tile(col, row, z))
    x, y = tms.xy(lon, lat)
    return (
        (x - b.left) / (b.right - b.left) * EXTENT,
        (b.top - y) / (b.top - b.bottom) * EXTENT,
    )


def world(tms_id: str, lon, lat):
    """Vectorised positions in matrix 0 units (0..1 down from the top-left, WorldCRS84Quad
    0..2 across): at matrix z the tile column is floor(x * 2**z), the row floor(y * 2**z)."""
    import numpy as np

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if tms_id == "WebMercatorQuad":
        y = (1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2
        return (lon + 180) / 360, y
    return (lon + 180) / 180, (90 - lat) / 180
