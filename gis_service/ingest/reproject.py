"""Reprojection to the storage CRS (EPSG:4326, longitude first), vectorised with pyproj."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

WGS84 = CRS.from_epsg(4326)


@lru_cache(maxsize=32)
def _transformer(source_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(source_wkt), WGS84, always_xy=True)


def to_wgs84(geoms: np.ndarray, crs: CRS | None) -> tuple[np.ndarray, bool]:
    """Geometries in lon/lat; a source without a CRS is taken to be lon/lat already."""
    if crs is None or crs.equals(WGS84, ignore_axis_order=True):
        return geoms, False
    transformer = _transformer(crs.to_wkt())

    def project(coords: np.ndarray) -> np.ndarray:
        if coords.shape[1] == 3:
            x, y, z = transformer.transform(coords[:, 0], coords[:, 1], coords[:, 2])
            return np.column_stack([x, y, z])
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    has_z = bool(shapely.has_z(geoms[~shapely.is_missing(geoms)]).any())
    return shapely.transform(geoms, project, include_z=has_z), True
