"""The client against a live server on both stores: frames equal what GeoPandas reads.

Paging and the GeoParquet download are two ways to one answer: every read is made both
ways and the frames must be identical (values, dtypes, index, CRS, column order), and both
must equal the source file as GeoPandas reads it, with the selection applied to it here.
"""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from gis_service.client import BadRequest, Client, NotFound, Unauthorized
from tests.client.sources import assert_matches_source, source_frame

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def api(live_server) -> Client:
    return Client(live_server.url, progress=False)


def both_ways(api: Client, collection: str, **selection) -> pd.DataFrame:
    """The selection paged and downloaded; asserted identical; the paged frame."""
    paged = api.read(collection, how="pages", **selection)
    downloaded = api.read(collection, how="download", **selection)
    assert_geodataframe_equal(paged, downloaded, check_less_precise=False)
    return paged


@pytest.mark.parametrize("collection", ["facilities", "districts", "places", "catalogue"])
def test_pages_download_and_source_agree(api, collection):
    frame = both_ways(api, collection)
    assert frame.crs.to_string() == "OGC:CRS84"
    assert frame.index.name == "id" and frame.index.dtype == "int64"
    assert frame.columns[-1] == "geometry"
    assert_matches_source(frame, source_frame(collection))


def test_dtypes_from_the_queryables(api):
    places = both_ways(api, "places")
    assert str(places["pop_max"].dtype) == "Int64"
    assert str(places["boolean"].dtype) == "boolean"
    assert places["boolean"].isna().sum() == len(places) - 3  # three places carry values
    assert str(places["date"].dtype) == "datetime64[us]"
    assert str(places["start"].dtype) == "datetime64[us, UTC]"
    facilities = both_ways(api, "facilities", filter="capacity > 2000")
    assert str(facilities["capacity"].dtype) == "Int64"
    assert str(facilities["opened"].dtype) == "datetime64[us]"
    assert facilities["name_ar"].str.contains("[\u0600-\u06ff]", regex=True).all()


BOX = (55.38, 25.30, 55.42, 25.34)


def _sorted_like_server(frame: pd.DataFrame) -> pd.DataFrame:
    """Capacity descending, then name by code point, then id (the server's tie-break)."""
    keys = pd.DataFrame(
        {"c": -frame["capacity"].astype("int64"), "n": frame["name_en"], "i": frame.index}
    )
    return frame.loc[keys.sort_values(["c", "n", "i"]).index.get_level_values(0)]


def test_selection_applied_equally_on_both_paths(api):
    source = source_frame("facilities")
    got = both_ways(api, "facilities", bbox=BOX)
    inside = source[source.geometry.intersects(shapely.box(*BOX))]
    assert_matches_source(got, inside)

    query = "category = 'school' AND capacity > 500"
    got = both_ways(api, "facilities", filter=query)
    assert_matches_source(got, source[(source.category == "school") & (source.capacity > 500)])

    got = both_ways(api, "facilities", datetime="2020-01-01T00:00:00Z/..")
    assert_matches_source(got, source[source.opened >= pd.Timestamp("2020-01-01")])

    got = both_ways(api, "facilities", properties=["name_ar", "capacity"], bbox=BOX)
    assert list(got.columns) == ["name_ar", "capacity", "geometry"]
    assert_matches_source(got, inside[["name_ar", "capacity", "geometry"]])

    got = both_ways(api, "facilities", sortby=["-capacity", "name_en"], filter="capacity > 1500")
    want = _sorted_like_server(source[source.capacity > 1500])
    assert list(got.index) == list(want.index)

    got = both_ways(api, "facilities", limit=3000)  # above a page and the download threshold
    assert list(got.index) == list(source.index[:3000])
    assert len(api.read("facilities", limit=3000)) == 3000  # auto: the download, capped

    got = both_ways(api, "facilities", sortby="-capacity", limit=7)
    assert len(got) == 7
    assert list(got["capacity"]) == sorted(source.capacity, reverse=True)[:7]


@pytest.mark.parametrize("crs", ["EPSG:32640", "EPSG:4326", "EPSG:3857"])
def test_crs_on_both_paths(api, crs):
    """Coordinates are x, y in every CRS: EPSG:4326's latitude-first GeoJSON is swapped back."""
    got = both_ways(api, "districts", crs=crs)
    assert got.crs.to_string() == crs
    want = source_frame("districts").to_crs(crs)
    tolerance = 1e-6 if crs == "EPSG:4326" else 1e-3
    assert shapely.equals_exact(
        got.geometry.values, want.loc[got.index].geometry.values, tolerance
    ).all()


def test_auto_downloads_large_selections_and_pages_small(live_server):
    asked: list[httpx.URL] = []
    api = Client(live_server.url, progress=False)
    api.http.session.event_hooks["request"] = [lambda request: asked.append(request.url)]
    api.read("facilities")  # 5,000 features: one page to count, then one download
    formats = [url.params.get("f") for url in asked if url.path.endswith("/items")]
    assert formats == ["json", "parquet"]
    asked.clear()
    api.read("facilities", filter="category = 'hospital'")  # a page holds them all
    assert [url.params.get("f") for url in asked if url.path.endswith("/items")] == ["json"]


def test_paging_follows_next_with_a_progress_bar(live_server, capfd):
    api = Client(live_server.url, progress=True)
    asked: list[httpx.URL] = []
    api.http.session.event_hooks["request"] = [lambda request: asked.append(request.url)]
    frame = api.read("facilities", how="pages")
    pages = [url for url in asked if url.path.endswith("/items")]
    assert len(frame) == 5000 and len(pages) == 5  # 1,000 a page, by the next links
    assert frame.index.is_unique
    assert "0/5000 " in capfd.readouterr().err  # the bar's total came from numberMatched


def test_collections_frame_matches_the_server(api, live_server):
    listing = httpx.get(f"{live_server.url}/collections").json()["collections"]
    frame = api.collections()
    assert list(frame.index) == [c["id"] for c in listing]
    assert list(frame.columns) == [
        "title", "title_ar", "owner", "visibility", "features", "bbox", "interval",
        "keywords", "description",
    ]  # fmt: skip
    assert frame.loc["facilities", "features"] == len(source_frame("facilities")) == 5000
    assert frame.loc["districts", "title"] == "Districts"
    assert np.allclose(frame.loc["facilities", "bbox"], source_frame("facilities").total_bounds)
    first, last = (pd.Timestamp(t).date() for t in frame.loc["facilities", "interval"])
    opened = source_frame("facilities").opened
    assert (first, last) == (opened.min().date(), opened.max().date())
    found = api.collections(q="populated")
    assert list(found.index) == ["places"]
    box = (-80.0, 40.0, -70.0, 45.0)  # the world's layers overlap it, Sharjah's do not
    near = api.collections(bbox=box)
    asked = httpx.get(f"{live_server.url}/collections", params={"bbox": "-80,40,-70,45"})
    assert list(near.index) == [c["id"] for c in asked.json()["collections"]]
    assert "rivers" in near.index and "facilities" not in near.index
    meta = api.collection("facilities")
    assert meta["id"] == "facilities" and meta["itemCount"] == 5000
    assert meta["queryables"]["opened"] == {"title": "opened", "type": "string", "format": "date"}


def test_typed_errors(api, live_server):
    with pytest.raises(NotFound):
        api.read("no-such-collection")
    with pytest.raises(BadRequest) as error:
        api.read("facilities", filter="capacity >>> 1", how="pages")
    assert "filter" in error.value.detail and error.value.title
    with pytest.raises(Unauthorized) as error:
        Client(live_server.url, key="gis_bad", progress=False).collections()
    assert error.value.status == 401 and "Bearer" in error.value.detail
