"""GeoDataFrames from GeoJSON pages or downloaded files, with the dtypes the schema says.

GeoJSON has no dates and no integers distinct from floats (a null makes pandas choose
``float64``); the collection's queryables say what each property is, so the frame is cast
from them: dates and date-times to ``datetime64``, integers to nullable ``Int64``, booleans
to nullable ``boolean``. The same casts apply to every read path, so paging and downloads
give equal frames.
"""

from __future__ import annotations

import contextlib
from typing import Any

import geopandas as gpd
import pandas as pd

CRS84 = "OGC:CRS84"


def crs_of(uri: str | None) -> str:
    """A pyproj-readable CRS for a ``Content-Crs``/``crs`` URI (CRS84 when none)."""
    if not uri:
        return CRS84
    uri = uri.strip("<>[] ")
    if uri.endswith("/OGC/1.3/CRS84"):
        return CRS84
    if "/EPSG/" in uri:
        return "EPSG:" + uri.rstrip("/").rsplit("/", 1)[1]
    return uri


def from_features(features: list[dict[str, Any]], crs: str) -> gpd.GeoDataFrame:
    """A frame of GeoJSON features, the feature id as index."""
    if not features:
        return gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=crs)).set_index("id")
    frame = gpd.GeoDataFrame.from_features(features, crs=crs)
    frame.index = pd.Index([f.get("id") for f in features], name="id")
    return frame


def with_index(frame: gpd.GeoDataFrame, id_column: str | None = None) -> gpd.GeoDataFrame:
    """A downloaded file's frame indexed by the feature id (the ``id`` column when present)."""
    for name in (id_column, "id", "fid"):
        if name and name in frame.columns:
            frame = frame.set_index(name)
            frame.index.name = "id"
            return frame
    return frame


def cast(frame: gpd.GeoDataFrame, schema: dict[str, Any]) -> gpd.GeoDataFrame:
    """Cast each property column to the dtype its queryable says."""
    for name, spec in schema.items():
        if name not in frame.columns or name == frame.geometry.name:
            continue
        frame[name] = _cast_column(frame[name], spec)
    _ids_as_ints(frame)
    return frame


def _cast_column(column: pd.Series, spec: dict[str, Any]) -> pd.Series:
    kind, fmt = spec.get("type"), spec.get("format")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    try:
        if fmt == "date-time":
            return pd.to_datetime(column, utc=True, format="ISO8601")
        if fmt == "date":
            return pd.to_datetime(column, format="ISO8601")
        if kind == "integer":
            return column.astype("Int64")
        if kind == "boolean":
            return column.astype("boolean")
        if kind == "number":
            return column.astype("float64")
    except (TypeError, ValueError):
        return column
    return column


def _ids_as_ints(frame: gpd.GeoDataFrame) -> None:
    """Ids are integers on both stores; keep them so whether they came as text or numbers."""
    with contextlib.suppress(TypeError, ValueError):
        frame.index = pd.Index(pd.to_numeric(frame.index), name="id").astype("int64")
