"""Vector tiles on both stores: decoded (mapbox-vector-tile) they hold what items return."""

from __future__ import annotations

import pytest

from ..conftest import DATA
from .mvt import BUFFER, bbox, decode, pixel, tile_of

WMQ, CRS84Q = "WebMercatorQuad", "WorldCRS84Quad"
# A place inside every demo layer (the demo city), and zooms where no tile is generalised.
LON, LAT = 55.5, 25.25
EXACT_ZOOMS = [12, 14]
MVT = "application/vnd.mapbox-vector-tile"


def tile_url(cid: str, tms: str, z: int, row: int, col: int, query: str = "") -> str:
    return f"/collections/{cid}/tiles/{tms}/{z}/{row}/{col}" + (f"?{query}" if query else "")


def items_in(client, cid: str, box: tuple, query: str = "") -> dict[int, dict]:
    text = ",".join(repr(v) for v in box)
    url = f"/collections/{cid}/items?bbox={text}&limit=10000" + (f"&{query}" if query else "")
    doc = client.get(url).json()
    assert doc["numberMatched"] == doc["numberReturned"], "the box holds more than one page"
    return {f["id"]: f for f in doc["features"]}


def layer_of(client, url: str, cid: str) -> dict[int, dict]:
    res = client.get(url)
    assert res.status_code in (200, 204), res.text
    if res.status_code == 204:
        return {}
    assert res.headers["content-type"] == MVT
    return {f["id"]: f for f in decode(res.content)[cid]["features"]}


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
@pytest.mark.parametrize("cid", ["facilities", "districts", "coverage"])
@pytest.mark.parametrize("z", EXACT_ZOOMS)
def test_tiles_hold_exactly_the_features_of_their_box(client, tms, cid, z):
    meta = client.get(f"/collections/{cid}/tiles/{tms}").json()
    assert str(z) not in meta["generalisation"]["generalisedTileMatrices"]
    row, col = tile_of(tms, LON, LAT, z)
    got = layer_of(client, tile_url(cid, tms, z, row, col), cid)
    inside = items_in(client, cid, bbox(tms, z, row, col))
    near = items_in(client, cid, bbox(tms, z, row, col, BUFFER))
    assert inside, "the test tile should not be empty"
    assert set(inside) <= set(got) <= set(near)
    for fid, feature in got.items():
        expected = {k: v for k, v in near[fid]["properties"].items() if v is not None}
        assert feature["properties"] == expected  # Arabic text byte for byte
        if feature["geometry"]["type"] == "Point":
            lon, lat = near[fid]["geometry"]["coordinates"]
            x, y = pixel(tms, z, row, col, lon, lat)
            gx, gy = feature["geometry"]["coordinates"]
            assert abs(gx - x) <= 16 and abs(gy - y) <= 16  # one pixel of a 256 px tile
    if cid != "coverage":  # the layers with Arabic names
        assert all("\u0600" <= f["properties"]["name_ar"][0] <= "\u06ff" for f in got.values())


def test_polygon_vertices_are_within_a_pixel(client):
    """A district drawn at z14: each decoded vertex lies on the source outline."""
    import shapely

    z = 14
    row, col = tile_of(WMQ, LON, LAT, z)
    got = layer_of(client, tile_url("districts", WMQ, z, row, col), "districts")
    near = items_in(client, "districts", bbox(WMQ, z, row, col, BUFFER))
    for fid, feature in got.items():
        source = shapely.geometry.shape(near[fid]["geometry"])
        outline = [
            shapely.Point(pixel(WMQ, z, row, col, x, y))
            for x, y in shapely.get_coordinates(source.boundary)
        ]
        ring = shapely.LineString([p.coords[0] for p in outline])
        drawn = shapely.geometry.shape(feature["geometry"])
        edge = shapely.box(-64, -64, 4096 + 64, 4096 + 64).boundary  # clipping adds these
        for x, y in shapely.get_coordinates(drawn.boundary):
            vertex = shapely.Point(x, y)
            assert min(ring.distance(vertex), edge.distance(vertex)) <= 16, (fid, x, y)


@pytest.mark.parametrize(
    "query, check",
    [
        ("filter=category%3D%27school%27", lambda p: p["category"] == "school"),
        ("filter=capacity%20%3E%20100&filter-lang=cql2-text", lambda p: p["capacity"] > 100),
        ("category=clinic", lambda p: p["category"] == "clinic"),
        ("datetime=2015-01-01T00:00:00Z/..", lambda p: p["opened"] >= "2015-01-01"),
    ],
)
def test_filters_apply_to_tiles_as_to_items(client, query, check):
    z = 12
    row, col = tile_of(WMQ, LON, LAT, z)
    everything = layer_of(client, tile_url("facilities", WMQ, z, row, col), "facilities")
    got = layer_of(client, tile_url("facilities", WMQ, z, row, col, query), "facilities")
    near = items_in(client, "facilities", bbox(WMQ, z, row, col, BUFFER), query)
    assert got and len(got) < len(everything)
    assert set(got) == set(near) & set(everything)
    assert all(check(f["properties"]) for f in got.values())


def test_properties_choose_the_attributes(client):
    z = 12
    row, col = tile_of(WMQ, LON, LAT, z)
    url = tile_url("facilities", WMQ, z, row, col, "properties=name_ar,capacity")
    got = layer_of(client, url, "facilities")
    assert got
    assert all(set(f["properties"]) <= {"name_ar", "capacity"} for f in got.values())
    assert any(set(f["properties"]) == {"name_ar", "capacity"} for f in got.values())


def test_an_empty_tile_is_204(client):
    res = client.get(tile_url("facilities", WMQ, 10, 0, 0))
    assert res.status_code == 204 and res.content == b""
    assert res.headers["etag"]


@pytest.mark.parametrize(
    "path, status, where",
    [
        ("WebMercatorQuad/23/0/0", 400, "tileMatrix"),
        ("WebMercatorQuad/x/0/0", 400, "tileMatrix"),
        ("WebMercatorQuad/3/-1/0", 400, "tileRow"),
        ("WebMercatorQuad/3/0/1e3", 400, "tileCol"),
        ("WebMercatorQuad/3/8/0", 404, "outside tile matrix 3"),
        ("WorldCRS84Quad/0/0/2", 404, "columns 0-1"),
        ("NoSuchGrid/0/0/0", 404, "NoSuchGrid"),
        ("WebMercatorQuad/3/0/0?filter=nosuch%3D1", 400, "filter"),
        ("WebMercatorQuad/3/0/0?filter=name_en%20%3D", 400, "filter"),
        ("WebMercatorQuad/3/0/0?bbox=1,2,3,4", 400, "bbox"),
        ("WebMercatorQuad/3/0/0?properties=nosuch", 400, "properties"),
        ("WebMercatorQuad/3/0/0?datetime=yesterday", 400, "datetime"),
    ],
)
def test_bad_tile_requests_are_problems(client, path, status, where):
    res = client.get(f"/collections/facilities/tiles/{path}")
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/problem+json"
    assert where in res.text


def test_etag_and_304(client):
    url = tile_url("districts", WMQ, 10, *tile_of(WMQ, LON, LAT, 10))
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, no-cache"  # the demo layers are public
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(url + "?properties=name_ar")
    assert other.headers["etag"] != etag
    assert client.get(url).content == first.content  # from the cache, the same bytes


def test_dataset_tiles_hold_a_layer_per_collection(client):
    z = 12
    row, col = tile_of(WMQ, LON, LAT, z)
    everything = decode(client.get(f"/tiles/{WMQ}/{z}/{row}/{col}").content)
    assert {"facilities", "districts", "coverage"} <= set(everything)
    chosen = client.get(f"/tiles/{WMQ}/{z}/{row}/{col}?collections=districts,facilities")
    layers = decode(chosen.content)
    assert set(layers) == {"districts", "facilities"}
    alone = layer_of(client, tile_url("districts", WMQ, z, row, col), "districts")
    assert {f["id"] for f in layers["districts"]["features"]} == set(alone)
    missing = client.get(f"/tiles/{WMQ}/{z}/{row}/{col}?collections=nosuch")
    assert missing.status_code == 404
    assert client.get(f"/tiles/{WMQ}/{z}/{row}/{col}?filter=a%3D1").status_code == 400


def test_tile_matrix_sets(client):
    import morecantile

    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == [WMQ, CRS84Q]
    for entry in listed:
        doc = client.get(entry["links"][0]["href"].removeprefix("http://testserver")).json()
        parsed = morecantile.TileMatrixSet.model_validate(doc)  # TMS 2.0 JSON, as read back
        assert parsed.id == entry["id"]
        assert [m["id"] for m in doc["tileMatrices"]] == [str(z) for z in range(23)]
    assert client.get("/tileMatrixSets/Nope").status_code == 404


def test_conformance_and_links(client):
    conforms = client.get("/conformance").json()["conformsTo"]
    for part in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{part}" in conforms
    assert "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset" in conforms
    rels = {x["rel"]: x["href"] for x in client.get("/").json()["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"].endswith("/tiles")
    links = client.get("/collections/districts").json()["links"]
    assert any(x["href"].endswith("/collections/districts/tiles") for x in links)
    paths = client.get("/api").json()["paths"]
    tile = "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
    assert "/collections/{collectionId}/tiles" + tile in paths and "/tiles" + tile in paths


def test_tileset_metadata_and_tilejson(client):
    query = "filter=category%3D%27school%27"
    doc = client.get(f"/collections/facilities/tiles/{WMQ}?{query}").json()
    item = next(x for x in doc["links"] if x["rel"] == "item")
    assert item["templated"] and item["type"] == MVT
    assert item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}?" + query)
    assert any(x["rel"].endswith("tiling-scheme") for x in doc["links"])
    assert doc["layers"][0]["id"] == "facilities"
    assert doc["generalisation"]["maxFeaturesPerTile"] == 2000
    assert "count" in doc["generalisation"]["points"]
    tj = client.get(f"/collections/facilities/tiles/{WMQ}/tilejson.json?{query}").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/{z}/{y}/{x}?" + query)
    assert tj["vector_layers"][0]["fields"]["name_ar"] == "String"
    assert client.get(f"/collections/facilities/tiles/{CRS84Q}/tilejson.json").status_code == 404
    listed = client.get("/collections/facilities/tiles").json()["tilesets"]
    assert {t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in listed} == {WMQ, CRS84Q}


def test_demo_data_is_where_the_tests_look():
    """The fixed place and zooms above stay meaningful if the demo data is regenerated."""
    import geopandas

    for name in ("facilities", "districts", "coverage"):
        frame = geopandas.read_file(DATA / f"{name}.geojson")
        west, south, east, north = frame.total_bounds
        assert west < LON < east and south < LAT < north, name
