"""Geometry checks on the way in: repair what can be repaired, reject what cannot.

Rows with non-finite or out-of-range coordinates are left out and reported; invalid
polygons are made valid (and counted); a geometry with an absurd number of vertices
stops the whole import, since it is an attack or a broken file, not data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import IngestError

MAX_VERTICES = 1_000_000
MAX_REJECTIONS_LISTED = 100
RANGE_SLACK = 1e-9


@dataclass(frozen=True)
class Rejection:
    row: int  # 1-based position in the source
    reason: str


@dataclass
class Checked:
    keep: np.ndarray  # boolean mask over the batch
    geometries: np.ndarray  # repaired, same length as the batch
    repaired: int
    rejections: list[Rejection]


def check_batch(geoms: np.ndarray, first_row: int) -> Checked:
    n = len(geoms)
    keep = np.ones(n, dtype=bool)
    rejections: list[Rejection] = []
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return Checked(keep, geoms, 0, rejections)
    # a geometry that is there but empty is a broken row; a missing one is a feature
    # without geometry, which is fine
    for i in np.flatnonzero(present & shapely.is_empty(geoms)):
        keep[i] = False
        rejections.append(Rejection(first_row + int(i), "empty geometry"))
    vertices = shapely.get_num_coordinates(geoms)
    if vertices.max() > MAX_VERTICES:
        row = first_row + int(np.argmax(vertices))
        raise IngestError(
            f"row {row}: a geometry with {int(vertices.max()):,} vertices"
            f" (the limit is {MAX_VERTICES:,})"
        )
    coords, index = shapely.get_coordinates(geoms, return_index=True)  # x, y
    bad_coord = ~np.isfinite(coords).all(axis=1)
    for i in np.unique(index[bad_coord]):
        keep[i] = False
        rejections.append(Rejection(first_row + int(i), "NaN or infinite coordinates"))
    xy = coords[:, :2]
    # a hair past the edge is rounding in the source (Natural Earth's Russia reaches
    # 180.00000000000006), not an error
    outside = (np.abs(xy[:, 0]) > 180 + RANGE_SLACK) | (np.abs(xy[:, 1]) > 90 + RANGE_SLACK)
    for i in np.unique(index[outside & ~bad_coord]):
        if keep[i]:
            keep[i] = False
            rejections.append(
                Rejection(first_row + int(i), "coordinates outside -180..180 / -90..90")
            )
    candidates = present & keep
    invalid = np.zeros(n, dtype=bool)
    invalid[candidates] = ~shapely.is_valid(geoms[candidates])
    repaired = int(invalid.sum())
    if repaired:
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    rejections.sort(key=lambda r: r.row)
    return Checked(keep, geoms, repaired, rejections)
