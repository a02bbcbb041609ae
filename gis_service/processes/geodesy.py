"""Measuring on the ellipsoid: geodesic distances and areas, and a metric frame to search in.

Searches (which features are near which) run in a local UTM projection, where GEOS's
planar predicates are fast and distances are within a fraction of a percent of the truth;
every distance and area a process reports is then measured again on the WGS 84 ellipsoid
(pyproj's Geod), so the numbers are geodesic whatever the projection's distortion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

GEOD = Geod(ellps="WGS84")
#: Planar searches look this much further than asked: UTM's scale error stays below it.
SLACK = 1.01


@dataclass(frozen=True)
class Frame:
    """A local metric projection (UTM) for the region a run works in, both ways."""

    forward: Transformer
    inverse: Transformer

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float]) -> Frame:
        minx, miny, maxx, maxy = bounds
        lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
        infos = query_utm_crs_info(
            datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
        )
        crs = CRS.from_epsg(int(infos[0].code)) if infos else CRS.from_epsg(3857)
        return cls(
            Transformer.from_crs(4326, crs, always_xy=True),
            Transformer.from_crs(crs, 4326, always_xy=True),
        )

    def project(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, lambda xy: _apply(self.forward, xy))

    def unproject(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, lambda xy: _apply(self.inverse, xy))


def _apply(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def bounds_of(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """The CRS84 bounds of every geometry given (a point's for empty input)."""
    boxes = [shapely.total_bounds(a) for a in arrays if len(a)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return (0.0, 0.0, 0.0, 0.0)
    stacked = np.array(boxes)
    return (
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    )


def widen(
    bounds: tuple[float, float, float, float], metres: float
) -> tuple[float, float, float, float]:
    """A CRS84 box holding everything within `metres` of `bounds` (generously)."""
    minx, miny, maxx, maxy = bounds
    dlat = metres / 110_000.0 * SLACK
    top = min(89.0, max(abs(miny), abs(maxy)) + dlat)
    dlon = min(360.0, metres / (111_320.0 * np.cos(np.radians(top))) * SLACK)
    return (
        max(-180.0, minx - dlon),
        max(-90.0, miny - dlat),
        min(180.0, maxx + dlon),
        min(90.0, maxy + dlat),
    )


def point_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic metres between two equal-length arrays of CRS84 points."""
    if not len(a):
        return np.zeros(0)
    _, _, dist = GEOD.inv(shapely.get_x(a), shapely.get_y(a), shapely.get_x(b), shapely.get_y(b))
    return np.asarray(dist, dtype=float)


def distances(frame: Frame, a: np.ndarray, b: np.ndarray, a_m: np.ndarray, b_m: np.ndarray):
    """Geodesic metres between geometries pairwise (CRS84 `a`, `b`; projected `a_m`, `b_m`).

    Points are measured directly; otherwise the two nearest points, found in the metric
    frame, are measured on the ellipsoid (0 where the geometries touch)."""
    if not len(a):
        return np.zeros(0)
    points = (shapely.get_type_id(a) == 0) & (shapely.get_type_id(b) == 0)
    out = np.zeros(len(a))
    out[points] = point_distances(a[points], b[points])
    other = ~points
    if other.any():
        lines = shapely.shortest_line(a_m[other], b_m[other])
        ends = frame.unproject(
            np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, 1)])
        )
        half = len(lines)
        out[other] = point_distances(ends[:half], ends[half:])
        out[other & shapely.intersects(a_m, b_m)] = 0.0
    return out


def areas(geoms: np.ndarray) -> np.ndarray:
    """Geodesic area of each CRS84 geometry in m² (0 for points and lines)."""
    out = np.zeros(len(geoms))
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6, 7))
    for i in np.flatnonzero(polygonal):
        area, _ = GEOD.geometry_area_perimeter(geoms[i])
        out[i] = abs(area)
    return out
