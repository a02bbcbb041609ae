"""The client against a live server on both stores: frames equal what GeoPandas reads."""

from __future__ import annotations

import geopandas as gpd
import pytest

from gis_service.client import BadRequest, Client, NotFound, Unauthorized
from tests.conftest import DATA


@pytest.fixture(scope="module")
def source() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "facilities.geojson")


def test_read_pages_and_download_equal_source(live_server, source):
    client = Client(live_server.url, progress=False)
    paged = client.read("facilities", how="pages").sort_index()
    downloaded = client.read("facilities", how="download").sort_index()
    assert len(paged) == len(source) == len(downloaded)
    assert paged.crs.equals(downloaded.crs)
    assert str(paged["capacity"].dtype) == "Int64"
    assert paged["opened"].dtype.kind == "M"
    assert sorted(paged["name_ar"]) == sorted(source["name_ar"])
    assert paged.geometry.geom_equals_exact(downloaded.geometry, 1e-9).all()


def test_typed_errors(live_server):
    client = Client(live_server.url, progress=False)
    with pytest.raises(NotFound):
        client.read("no-such-collection")
    with pytest.raises(BadRequest) as error:
        client.read("facilities", filter="capacity >>> 1", how="pages")
    assert "filter" in (error.value.detail + error.value.title)
    with pytest.raises(Unauthorized):
        Client(live_server.url, key="gis_bad", progress=False).collections()
