"""A real client: GDAL's OAPIF driver reads whole collections through our paging."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from ..conftest import DATA


@pytest.fixture(scope="module")
def facilities() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "facilities.geojson", fid_as_index=True)


def read_oapif(live_server, collection: str, **kwargs) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(
        f"OAPIF:{live_server.url}", layer=collection, fid_as_index=True, **kwargs
    )


def test_gdal_reads_every_feature_once_with_identical_values(live_server, facilities):
    got = read_oapif(live_server, "facilities")
    assert len(got) == len(facilities) == 5000
    assert got.index.is_unique
    assert sorted(got.index) == sorted(facilities.index)
    got = got.loc[facilities.index]
    for column in ("name_en", "name_ar", "category", "entity", "district"):
        assert got[column].tolist() == facilities[column].tolist(), column
    assert got["capacity"].astype(int).tolist() == facilities["capacity"].tolist()
    assert pd.to_datetime(got["opened"]).dt.date.tolist() == facilities["opened"].dt.date.tolist()
    assert got.crs.equals("OGC:CRS84")  # our storageCrs; the file said EPSG:4326 (same datum)
    source = facilities.geometry.set_crs(got.crs, allow_override=True)
    assert got.geometry.geom_equals_exact(source, tolerance=1e-9).all()


def test_gdal_pushes_equality_filters_to_the_server(live_server, facilities):
    got = read_oapif(live_server, "facilities", where="category = 'police'")
    expected = facilities[facilities.category == "police"]
    assert sorted(got.index) == sorted(expected.index)


def test_gdal_bbox_and_polygons(live_server):
    source = gpd.read_file(DATA / "districts.geojson", fid_as_index=True)
    got = read_oapif(live_server, "districts", bbox=(55.40, 25.30, 55.45, 25.35))
    import shapely

    expected = source.index[source.intersects(shapely.box(55.40, 25.30, 55.45, 25.35))]
    assert sorted(got.index) == sorted(expected)
    assert got.loc[expected[0], "name_ar"] == source.loc[expected[0], "name_ar"]


def test_gdal_sees_the_page_size_from_the_openapi_document(live_server):
    info = pyogrio.read_info(f"OAPIF:{live_server.url}", layer="districts")
    assert info["features"] == 100
