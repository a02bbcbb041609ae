"""Constants and geometry helpers shared by the SYNTHETIC demo data generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, mapping

SEED = 971_06  # UAE country code + Sharjah area code; any fixed int works.
OUT_DIR = Path(__file__).resolve().parent
GRID = 1e-6  # 6 decimal places in degrees (~0.1 m)
NOTE = "SYNTHETIC demo data for gis-service - not real Sharjah data."

# Main city box (lon_min, lat_min, lon_max, lat_max), also the raster extent.
CITY_BOX = (55.35, 25.15, 55.75, 25.45)
RASTER_RES = 0.001  # degrees -> 400 x 300 pixels
CITY_CORE = (55.39, 25.34)  # old town (Al Qasimia / Rolla), densest area

# Rough Gulf coastline (SW -> NE); the sea lies to the north-west of it.
COASTLINE = [
    (55.330, 25.262),
    (55.360, 25.300),
    (55.378, 25.322),
    (55.392, 25.342),
    (55.410, 25.362),
    (55.430, 25.382),
    (55.450, 25.400),
    (55.480, 25.420),
    (55.510, 25.438),
    (55.545, 25.462),
]
# Land boundary of the synthetic city, continuing from COASTLINE[1:7].
INLAND_BORDER = [
    (55.470, 25.396),
    (55.520, 25.382),
    (55.600, 25.370),
    (55.680, 25.350),
    (55.730, 25.310),
    (55.735, 25.220),
    (55.680, 25.170),
    (55.550, 25.160),
    (55.450, 25.170),
    (55.400, 25.205),
    (55.372, 25.250),
    (55.362, 25.280),
]

N_CITY_DISTRICTS = 97
N_FACILITIES = 5000
N_OMNI_SITES = 180
N_SECTOR_SITES = 40  # three 120-degree sectors each -> 120 polygons

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32640", always_xy=True)
TO_WGS84 = Transformer.from_crs("EPSG:32640", "EPSG:4326", always_xy=True)


def rng_for(stream: int) -> np.random.Generator:
    """Give each layer its own seeded stream so editing one keeps the others."""
    return np.random.default_rng([SEED, stream])


def round_geom(geom: shapely.Geometry) -> shapely.Geometry:
    """Snap to the 1e-6 grid and round, refusing geometries that turn invalid."""
    snapped = shapely.set_precision(geom, GRID)
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, 6))
    rounded = shapely.orient_polygons(rounded)  # RFC 7946: CCW exterior rings
    if not shapely.is_valid(rounded) or rounded.is_empty:
        raise ValueError(f"invalid after rounding: {shapely.is_valid_reason(rounded)}")
    return rounded


def to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    """Project an EPSG:32640 geometry to lon/lat."""

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, project)


def city_outline() -> Polygon:
    """Land outline of the synthetic city: coast segment plus inland border."""
    return Polygon(COASTLINE[1:7] + INLAND_BORDER)


def sea_polygon() -> Polygon:
    """Water north-west of the coastline, used as raster nodata mask."""
    return Polygon([*COASTLINE, (55.545, 25.60), (55.20, 25.60), (55.20, 25.262)])


def points_in(rng: np.random.Generator, geom: shapely.Geometry, n: int) -> np.ndarray:
    """n uniform points strictly inside geom, tested after rounding to 6 dp."""
    x0, y0, x1, y1 = geom.bounds
    found = np.empty((0, 2))
    while len(found) < n:
        cand = np.round(rng.uniform((x0, y0), (x1, y1), size=(4 * n + 16, 2)), 6)
        found = np.vstack([found, cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]])
    return found[:n]


def feature(fid: int, geom: shapely.Geometry, props: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON Feature with a numeric id (1..N)."""
    return {"type": "Feature", "id": fid, "geometry": mapping(geom), "properties": props}
