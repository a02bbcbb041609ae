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
import pyproj
import shapely

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


def northing_first(crs: str) -> bool:
    """Whether GeoJSON in ``crs`` has y first (EPSG:4326 is latitude, longitude: Part 2)."""
    try:
        axes = pyproj.CRS.from_user_input(crs).axis_info
    except pyproj.exceptions.CRSError:
        return False
    return len(axes) >= 2 and axes[0].direction.lower() in ("north", "south")


def from_features(features: list[dict[str, Any]], crs: str) -> gpd.GeoDataFrame:
    """A frame of GeoJSON features, the feature id as index, the geometry last.

    Coordinates in a northing-first CRS are swapped to x, y: GeoPandas (and every
    download format) keeps easting/longitude first whatever the CRS's axis order.
    """
    if not features:
        return gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=crs)).set_index("id")
    frame = gpd.GeoDataFrame.from_features(features, crs=crs)
    frame.index = pd.Index([f.get("id") for f in features], name="id")
    if northing_first(crs):
        frame = frame.set_geometry(
            shapely.transform(frame.geometry.values, lambda xy: xy[:, ::-1]), crs=crs
        )
    return geometry_last(frame)


def geometry_last(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The properties in their order, the geometry column after them (as files read)."""
    name = frame.geometry.name
    return frame[[c for c in frame.columns if c != name] + [name]]


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
            return _datetimes(column, utc=True)
        if fmt == "date":
            return _datetimes(column, utc=False)
        if kind == "integer":
            return column.astype("Int64")
        if kind == "boolean":
            return column.astype("boolean")
        if kind == "number":
            return column.astype("float64")
    except (TypeError, ValueError):
        return column
    return column


def _datetimes(column: pd.Series, utc: bool) -> pd.Series:
    """ISO 8601 text, dates or timestamps as ``datetime64[us]`` (UTC for date-times).

    One unit whatever the source (pandas picks ``s`` for dates, ``us`` for text), so every
    path gives the same dtype; microseconds keep whatever precision the server stores.
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        values = column.dt.tz_convert("UTC")
    elif column.dtype.kind == "M":
        values = column.dt.tz_localize("UTC") if utc else column
    else:
        values = pd.to_datetime(column, utc=utc, format="ISO8601")
    return values.dt.as_unit("us")


def _ids_as_ints(frame: gpd.GeoDataFrame) -> None:
    """Ids are integers on both stores; keep them so whether they came as text or numbers."""
    with contextlib.suppress(TypeError, ValueError):
        frame.index = pd.Index(pd.to_numeric(frame.index), name="id").astype("int64")
