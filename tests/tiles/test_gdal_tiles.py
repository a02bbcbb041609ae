"""GDAL's OGCAPI driver (pyogrio's bundled GDAL, with its MVT driver) reads our vector
tiles from a live server and gets the features items return, on both stores."""

from __future__ import annotations

import urllib.request
import warnings

import orjson
import pyogrio
import pytest
import shapely

# WorldCRS84Quad, the set GDAL itself prefers: for vector tilesets GDAL 3.12 intersects the
# collection's CRS84 extent with the tile matrices without reprojecting it, so that in
# WebMercatorQuad it finds our layer at matrices 0-2 only (a GDAL limitation, not ours).
CRS84Q = "WorldCRS84Quad"
Z = 12
PIXEL = 180 / 2**Z / 256  # degrees per display pixel of a 256 px tile at Z


def read_tiles(url: str, cid: str, tms: str, z: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "more than one layer": we name ours
        return pyogrio.read_dataframe(
            f"OGCAPI:{url}/collections/{cid}",
            layer=f"Zoom level {z}",
            API="TILES",
            VECTOR_FORMAT="MVT",
            TILEMATRIXSET=tms,
        )


def read_items(url: str, cid: str) -> dict[int, dict]:
    with urllib.request.urlopen(f"{url}/collections/{cid}/items?limit=10000") as res:
        doc = orjson.loads(res.read())
    assert doc["numberReturned"] == doc["numberMatched"]
    return {f["id"]: f for f in doc["features"]}


@pytest.mark.parametrize("cid", ["facilities", "districts", "coverage"])
def test_gdal_reads_our_tiles_as_the_items(live_server, cid):
    tiles = read_tiles(live_server.url, cid, CRS84Q, Z)
    items = read_items(live_server.url, cid)
    assert len(items) > 1
    # one row per tile a feature is drawn in (GDAL stitches nothing): the same features
    assert set(tiles["mvt_id"]) == set(items)
    for fid, pieces in tiles.groupby("mvt_id"):
        item = items[fid]
        for name, expected in item["properties"].items():
            got = pieces[name].iloc[0]
            if expected is None:  # null: no value in the tile
                assert got is None or got != got, (fid, name)
            elif isinstance(expected, float):
                assert got == pytest.approx(expected), (fid, name)
            else:
                assert str(got) == str(expected), (fid, name)
        source = shapely.geometry.shape(item["geometry"])
        drawn = shapely.union_all(pieces.geometry.values)
        assert drawn.geom_type.removeprefix("Multi") == source.geom_type.removeprefix("Multi")
        # within a pixel at that zoom: nothing drawn off the feature, none of it missing
        assert source.buffer(PIXEL).covers(drawn), fid
        assert drawn.buffer(PIXEL).covers(source), fid
