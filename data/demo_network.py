"""Network coverage polygons and the signal-strength raster of the SYNTHETIC demo data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from demo_geometry import (
    CITY_BOX,
    N_OMNI_SITES,
    N_SECTOR_SITES,
    NOTE,
    RASTER_RES,
    TO_UTM,
    city_outline,
    feature,
    points_in,
    rng_for,
    round_geom,
    sea_polygon,
    to_wgs84,
)
from demo_vocabulary import (
    TOWNS,
)
from rasterio.transform import from_origin
from shapely.geometry import Point, Polygon


def sector(cx: float, cy: float, radius: float, azimuth: float) -> Polygon:
    """120-degree antenna sector (centre + 31 arc points) in metres."""
    angles = np.radians(azimuth + np.linspace(-60.0, 60.0, 31))
    arc = list(zip(cx + radius * np.sin(angles), cy + radius * np.cos(angles), strict=True))
    return Polygon([(cx, cy), *arc])


def signal_at(distance_km: np.ndarray | float, offset_db: float) -> np.ndarray | float:
    """Simple log-distance path-loss model (dBm) shared by polygons and raster."""
    return -50.0 - 32.0 * np.log10(np.maximum(distance_km, 0.05) / 0.1) + offset_db


def site_centres(rng: np.random.Generator) -> list[tuple[float, float]]:
    """Site locations (lon/lat): mostly the city, a few in each town."""
    n_city = N_OMNI_SITES + N_SECTOR_SITES - sum(t["sites"] for t in TOWNS)
    pts = [tuple(p) for p in points_in(rng, city_outline(), n_city)]
    for t in TOWNS:
        pts += [tuple(p) for p in points_in(rng, Polygon(t["ring"]), t["sites"])]
    order = rng.permutation(len(pts))  # mix towns in so sector sites land anywhere
    return [pts[i] for i in order]


def build_coverage() -> tuple[list[dict[str, Any]], list[tuple[float, float, float]]]:
    """Coverage polygons built in UTM 40N; also returns (x, y, offset) per site."""
    rng = rng_for(3)
    base = np.datetime64("2025-01-01T00:00")
    features: list[dict[str, Any]] = []
    sites: list[tuple[float, float, float]] = []
    counters: Counter[str] = Counter()
    for n, (lon, lat) in enumerate(site_centres(rng)):
        cx, cy = TO_UTM.transform(lon, lat)
        operator = "etisalat" if rng.random() < 0.55 else "du"
        technology = "5G" if rng.random() < 0.35 else "4G"
        counters[operator] += 1
        site_id = f"{'ETS' if operator == 'etisalat' else 'DU'}-SHJ-{counters[operator]:04d}"
        offset = float(rng.uniform(-4.0, 4.0))
        sites.append((cx, cy, offset))
        r_lo, r_hi = (1000.0, 2500.0) if technology == "5G" else (2000.0, 5000.0)
        if n < N_OMNI_SITES:
            radius = float(rng.uniform(r_lo, r_hi))
            shapes = [(Point(cx, cy).buffer(radius, quad_segs=8), radius)]
        else:
            first = rng.uniform(0.0, 120.0)
            radii = [float(rng.uniform(r_lo, r_hi)) for _ in range(3)]
            shapes = [(sector(cx, cy, r, first + 120.0 * k), r) for k, r in enumerate(radii)]
        for shape, radius in shapes:
            level = signal_at(0.6 * radius / 1000.0, offset) + rng.normal(0.0, 3.0)
            minutes = int(rng.integers(0, 180 * 24 * 60 // 15)) * 15
            features.append(
                feature(
                    len(features) + 1,
                    round_geom(to_wgs84(shape)),
                    {
                        "operator": operator,
                        "technology": technology,
                        "signal_dbm": int(np.clip(round(level), -120, -60)),
                        "site_id": site_id,
                        "updated": f"{base + np.timedelta64(minutes, 'm')}:00Z",
                    },
                )
            )
    return features, sites


def signal_grid(sites: list[tuple[float, float, float]]) -> np.ndarray:
    """Power-summed signal (dBm) of all sites over the city box; sea is nodata."""
    x0, y0, x1, y1 = CITY_BOX
    width, height = round((x1 - x0) / RASTER_RES), round((y1 - y0) / RASTER_RES)
    lon = x0 + (np.arange(width) + 0.5) * RASTER_RES
    lat = y1 - (np.arange(height) + 0.5) * RASTER_RES
    lon2d, lat2d = np.meshgrid(lon, lat)
    ux, uy = TO_UTM.transform(lon2d, lat2d)
    power_mw = np.zeros_like(ux)
    for sx, sy, offset in sites:
        dist_km = np.hypot(ux - sx, uy - sy) / 1000.0
        power_mw += 10.0 ** (signal_at(dist_km, offset) / 10.0)
    dbm = np.clip(np.round(10.0 * np.log10(power_mw), 1), -120.0, -50.0)
    dbm[shapely.contains_xy(sea_polygon(), lon2d, lat2d)] = -9999.0
    return dbm.astype(np.float32)


def write_geotiff(path: Path, data: np.ndarray) -> None:
    """Tiled, DEFLATE-compressed single-band GeoTIFF in EPSG:4326."""
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": data.shape[1],
        "height": data.shape[0],
        "crs": "EPSG:4326",
        "transform": from_origin(CITY_BOX[0], CITY_BOX[3], RASTER_RES, RASTER_RES),
        "nodata": -9999.0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, "signal_dbm")
        dst.units = ("dBm",)
        dst.update_tags(SYNTHETIC="true", DESCRIPTION=NOTE)
