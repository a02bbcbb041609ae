"""Every feature's bounds, straight from the GeoPackage R-tree (no geometry is parsed)."""

from __future__ import annotations

import sqlite3

import numpy as np

from ..base import FeatureBoxes
from .query import Opened


def feature_boxes(conn: sqlite3.Connection, opened: Opened) -> FeatureBoxes:
    rows = conn.execute(
        f"SELECT id, minx, miny, maxx, maxy FROM {opened.layout.rtree} ORDER BY id"
    ).fetchall()
    if not rows:
        return FeatureBoxes(np.empty(0, np.int64), np.empty((0, 4)))
    fids = np.fromiter((row[0] for row in rows), np.int64, len(rows))  # ids may pass 2**53
    bounds = np.array([row[1:] for row in rows], dtype=np.float64)
    return FeatureBoxes(fids, bounds)
