"""The demo layers as GeoPandas reads their source files, the comparison of a client frame
with them (values, the dtypes the client promises, Arabic text, geometry with z), and a
small frame of every property type for uploads.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tests.conftest import DEMO_LAYERS


@cache
def _read(collection: str) -> gpd.GeoDataFrame:
    spec = DEMO_LAYERS[collection]
    return gpd.read_file(spec["path"], layer=spec.get("layer"), fid_as_index=True)


def source_frame(collection: str) -> gpd.GeoDataFrame:
    """A fresh copy of the layer's file, indexed by its feature id (GeoJSON id, GPKG fid)."""
    frame = _read(collection).copy()
    frame.index.name = "id"
    return frame


def _same_values(got: pd.Series, want: pd.Series) -> None:
    kind = got.dtype
    if str(kind) == "Int64":
        want = want.astype("Int64")
    elif str(kind) == "boolean":
        want = want.astype("boolean")
    elif kind.kind == "M":
        want = pd.to_datetime(want)
        if getattr(kind, "tz", None) is not None and want.dt.tz is None:
            want = want.dt.tz_localize("UTC")  # GeoPackage keeps UTC date-times naive
        want = want.dt.as_unit("us")
    elif kind.kind == "f":
        want = want.astype("float64")
    else:  # text, Arabic included: the same code points, the same missing values
        assert got.isna().equals(want.isna()), got.name
        got, want = got.dropna().astype(str), want.dropna().astype(str)
    pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)


def assert_matches_source(frame: gpd.GeoDataFrame, source: gpd.GeoDataFrame) -> None:
    """``frame`` (as the client read it) holds exactly ``source``'s features and values."""
    frame, source = frame.sort_index(), source.sort_index()
    assert len(frame) == len(source) > 0
    assert list(frame.index) == list(source.index)
    assert [c for c in frame.columns if c != "geometry"] == [
        c for c in source.columns if c != "geometry"
    ]
    for name in frame.columns:
        if name != "geometry":
            _same_values(frame[name], source[name])
    got, want = frame.geometry.values, source.geometry.values
    assert list(shapely.is_missing(got)) == list(shapely.is_missing(want))
    present = ~shapely.is_missing(want)
    assert list(shapely.has_z(got[present])) == list(shapely.has_z(want[present]))
    assert shapely.equals_exact(got[present], want[present], tolerance=1e-9).all()
    z_got = shapely.get_coordinates(got[present], include_z=True)
    z_want = shapely.get_coordinates(want[present], include_z=True)
    np.testing.assert_allclose(z_got, z_want, rtol=0, atol=1e-9)  # NaN z of 2D equal


def sites(count: int, start: int = 0) -> gpd.GeoDataFrame:
    """Points with Arabic names, integers, dates, booleans and a missing value or two."""
    n = range(start, start + count)
    return gpd.GeoDataFrame(
        {
            "name": [f"موقع رقم {i} — site" for i in n],
            "rank": pd.array([None if i % 7 == 3 else i for i in n], dtype="Int64"),
            "opened": pd.to_datetime([f"2021-01-{1 + i % 28:02d}" for i in n]),
            "open": pd.array([i % 2 == 0 for i in n], dtype="boolean"),
        },
        geometry=[shapely.Point(55.3 + i / 1000, 25.3 + i / 2000) for i in n],
        crs="EPSG:4326",
    )
