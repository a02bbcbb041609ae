"""Every feature's bounds from PostGIS, as float8 (the geometry's cached box where it has one)."""

from __future__ import annotations

import numpy as np
import psycopg

from ..base import FeatureBoxes


def feature_boxes(conn: psycopg.Connection, table: str) -> FeatureBoxes:
    rows = conn.execute(
        'SELECT "fid", ST_XMin("geom"), ST_YMin("geom"), ST_XMax("geom"), ST_YMax("geom")'
        f' FROM {table} WHERE "geom" IS NOT NULL ORDER BY "fid"'
    ).fetchall()
    if not rows:
        return FeatureBoxes(np.empty(0, np.int64), np.empty((0, 4)))
    fids = np.fromiter((row[0] for row in rows), np.int64, len(rows))  # ids may pass 2**53
    bounds = np.array([row[1:] for row in rows], dtype=np.float64)
    return FeatureBoxes(fids, bounds)
