"""OGC API - Coverages on both stores: what rasterio and GDAL read from our answers equals
the source raster's window (values, CRS, transform), scaled and reprojected as asked."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.io import MemoryFile
from rasterio.windows import Window

from gis_service.rasters import open_cog
from gis_service.rasters.description import CONFORMANCE

from ..conftest import LiveServer
from .tiffs import CELL, NODATA, ORIGIN, signal_values, write_signal_tif

SOURCE = Affine(CELL, 0, ORIGIN[0], 0, -CELL, ORIGIN[1])


@pytest.fixture(scope="module")
def cov(world, tmp_path_factory):
    """A public raster collection `cov` (version 1: the test raster) and a private one."""
    tif = write_signal_tif(tmp_path_factory.mktemp("cov") / "signal.tif")
    res = world.upload("cov", tif, visibility="public")
    assert res.status_code == 201, res.text
    assert world.upload("cov-private", tif).status_code == 201
    return tif


def read(world, query: str = "", cid: str = "cov", **headers: str):
    res = world.client.get(f"/collections/{cid}/coverage{query}", headers=headers)
    assert res.status_code == 200, res.text
    memory = MemoryFile(res.content)
    return res, memory.open()


def test_whole_coverage_equals_the_source(world, cov):
    res, ds = read(world)
    assert res.headers["content-type"] == "image/tiff; application=geotiff"
    with ds:
        assert ds.crs.to_epsg() == 32640 and ds.transform == SOURCE and ds.nodata == NODATA
        assert np.array_equal(ds.read(), signal_values())
        assert ds.descriptions == ("signal", "quality") and ds.units == ("dBm", "percent")


def test_subset_on_native_axes_is_that_window(world, cov):
    x0, y1 = ORIGIN[0] + 100 * CELL, ORIGIN[1] - 50 * CELL  # columns 100-219, rows 50-129
    query = f"?subset=E({x0}:{x0 + 120 * CELL}),N({y1 - 80 * CELL}:{y1})"
    _res, ds = read(world, query)
    with ds:
        assert ds.transform == SOURCE @ Affine.translation(100, 50)
        assert np.array_equal(ds.read(), signal_values()[:, 50:130, 100:220])
    _res, ds = read(world, f"?subset=E({x0}:*),N({y1 - 0.5 * CELL})")  # open end, a slice
    with ds:
        assert ds.shape == (1, 500) and np.array_equal(ds.read(), signal_values()[:, 50:51, 100:])


def test_bbox_in_crs84_selects_the_window_around_it(world, cov):
    minx, miny, maxx, maxy = 55.60, 25.31, 55.63, 25.34
    _res, ds = read(world, f"?bbox={minx},{miny},{maxx},{maxy}")
    with ds:
        col, row = ~SOURCE * (ds.transform.c, ds.transform.f)
        assert col == int(col) and row == int(row)  # whole source cells
        window = Window(int(col), int(row), ds.width, ds.height)
        with rasterio.open(cov) as src:
            assert np.array_equal(ds.read(), src.read(window=window))
            box = rasterio.warp.transform_bounds(ds.crs, "OGC:CRS84", *ds.bounds)
    assert box[0] <= minx and box[1] <= miny and box[2] >= maxx and box[3] >= maxy
    _res, utm = read(world, "?bbox=355000,2798000,358000,2801000&bbox-crs=EPSG:32640")
    with utm:
        assert utm.bounds.left <= 355000 and utm.bounds.top >= 2801000


def test_subset_in_another_crs_selects_the_window_enclosing_it(world, cov):
    """`subset-crs`: the ranges are on that CRS's axes (Lon, Lat for CRS84; Lat, Lon for
    EPSG:4326, whatever their order in the query), the answer the native window around them."""
    minx, miny, maxx, maxy = 55.60, 25.31, 55.63, 25.34
    _res, by_bbox = read(world, f"?bbox={minx},{miny},{maxx},{maxy}")
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    _res, ds = read(world, f"?subset=Lon({minx}:{maxx}),Lat({miny}:{maxy})&subset-crs={crs84}")
    with ds, by_bbox:
        assert ds.transform == by_bbox.transform and np.array_equal(ds.read(), by_bbox.read())
    _res, ds = read(world, f"?subset=Lat({miny}:{maxy}),Lon({minx}:{maxx})&subset-crs=EPSG:4326")
    with ds:
        box = rasterio.warp.transform_bounds(ds.crs, "OGC:CRS84", *ds.bounds)
        assert box[0] <= minx and box[1] <= miny and box[2] >= maxx and box[3] >= maxy
    _res, east = read(world, f"?subset=Lon({minx}:*)&subset-crs={crs84}")  # an open end
    with east:
        assert east.bounds.right == ORIGIN[0] + 600 * CELL and east.height == 400
    for bad in ("?subset=E(355000:356000)&subset-crs=EPSG:4326", "?subset-crs=EPSG:0"):
        res = world.client.get(f"/collections/cov/coverage{bad}")
        assert res.status_code == 400, res.text


def _block_means(data: np.ndarray, factor: int) -> np.ndarray:
    """GDAL's `average` overview: the mean of the valid cells of each block."""
    bands, rows, cols = data.shape
    blocks = data.reshape(bands, rows // factor, factor, cols // factor, factor).astype("float64")
    valid = blocks != NODATA
    total = np.where(valid, blocks, 0).sum(axis=(2, 4))
    count = valid.sum(axis=(2, 4))
    return np.where(count > 0, total / np.maximum(count, 1), NODATA).astype("float32")


def test_scale_factor_reads_the_overview(world, cov):
    _res, ds = read(world, "?scale-factor=2")
    with ds:
        assert ds.shape == (200, 300)
        assert ds.transform == SOURCE @ Affine.scale(2)
        # the overview's averages (full-resolution nearest cells would differ): read there
        assert np.allclose(ds.read(), _block_means(signal_values(), 2), atol=1e-3)


def test_scale_size_and_scale_axes(world, cov):
    _res, ds = read(world, "?scale-size=E(150),N(100)")
    with ds:
        assert ds.shape == (100, 150) and ds.transform == SOURCE @ Affine.scale(4)
        overview = _block_means(signal_values(), 2)
        assert np.allclose(ds.read(), overview[:, 1::2, 1::2], atol=1e-3)
    _res, ds = read(world, "?scale-axes=E(2)&properties=quality")
    with ds:
        assert ds.shape == (400, 300) and ds.transform == SOURCE @ Affine.scale(2, 1)
    _res, ds = read(world, "?scaleSize=E(60)")  # the earlier drafts' spelling (GDAL 3.6)
    with ds:
        assert ds.shape == (400, 60)


def test_properties_choose_bands_in_order(world, cov):
    _res, ds = read(world, "?properties=quality,1")
    with ds:
        values = signal_values()
        assert ds.count == 2 and np.array_equal(ds.read(), values[[1, 0]])
        assert ds.descriptions == ("quality", "signal")


def test_crs_reprojects(world, cov):
    _res, ds = read(world, "?crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    with ds:
        assert ds.crs.to_epsg() == 4326
        with rasterio.open(cov) as src:
            footprint = rasterio.warp.transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        assert ds.bounds.left == pytest.approx(footprint[0], abs=1e-3)
        assert ds.bounds.top == pytest.approx(footprint[3], abs=1e-3)
        out = ds.read(1)
        valid = out[out != NODATA]
        assert valid.size > 0.5 * out.size
        assert np.isin(valid, signal_values()[0]).all()  # nearest: source values only


def test_png_is_grey_with_transparent_nodata(world, cov):
    res = world.client.get("/collections/cov/coverage?f=png&properties=signal")
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    assert res.content.startswith(b"\x89PNG")
    with MemoryFile(res.content).open() as png:
        grey, alpha = png.read()
    source = signal_values()[0]
    assert np.array_equal(alpha == 0, source == NODATA)
    valid = source != NODATA
    assert grey[valid].min() == 0 and grey[valid].max() == 255  # stretched min..max
    accepted = world.client.get(
        "/collections/cov/coverage?properties=1", headers={"Accept": "image/png"}
    )
    assert accepted.headers["content-type"] == "image/png"
    two = world.client.get("/collections/cov/coverage?f=png")  # two bands fit no PNG
    assert two.status_code == 400 and two.json()["parameter"] == "properties"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?subset=Lat(25:26)", "subset"),
        ("?subset=E(abc:1)", "subset"),
        ("?subset=E(10:5)", "subset"),
        ("?subset=E(١:٢)", "subset"),
        ("?scale-factor=0", "scale-factor"),
        ("?scale-factor=2&scale-size=E(10)", "scale-factor"),
        ("?scale-size=E(1.5)", "scale-size"),
        ("?scale-size=E(100000),N(100000)", "scale-size"),
        ("?properties=nope", "properties"),
        ("?properties=1,1", "properties"),
        ("?crs=EPSG:99999", "crs"),
        ("?bbox=1,2,3", "bbox"),
        ("?f=jpeg", "f"),
        ("?version=x", "version"),
        ("?colour=red", "colour"),
    ],
)
def test_bad_parameters_answer_400_naming_them(world, cov, query, parameter):
    res = world.client.get(f"/collections/cov/coverage{query}")
    assert res.status_code == 400, res.text
    assert res.json()["parameter"] == parameter


def test_output_limit_says_what_to_do(world, cov):
    res = world.client.get("/collections/cov/coverage?scale-size=E(5000),N(5000)")
    assert res.status_code == 400
    assert "limit 16,000,000" in res.json()["detail"] and "scale" in res.json()["detail"]


def test_outside_is_204_and_features_are_not_coverages(world, cov):
    outside = world.client.get("/collections/cov/coverage?subset=E(0:1000)")
    assert outside.status_code == 204 and outside.content == b""
    far = world.client.get("/collections/cov/coverage?bbox=-10,-10,-9,-9")
    assert far.status_code == 204
    created = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "vec", "visibility": "public"},
        files={"file": ("p.geojson", b'{"type":"FeatureCollection","features":[{"type":'
                        b'"Feature","properties":{},"geometry":{"type":"Point",'
                        b'"coordinates":[55.4,25.3]}}]}')},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    for path in ("coverage", "coverage/domainset", "coverage/rangetype"):
        res = world.client.get(f"/collections/vec/{path}")
        assert res.status_code == 404 and "not a coverage" in res.json()["detail"]


def test_domain_set_and_range_type_describe_the_grid(world, cov):
    doc = world.client.get("/collections/cov").json()
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/coverage"].endswith("/coverage?f=png")
    domain = world.client.get(rels["http://www.opengis.net/def/rel/ogc/1.0/coverage-domainset"])
    grid = domain.json()["generalGrid"]
    assert grid["srsName"] == "http://www.opengis.net/def/crs/EPSG/0/32640"
    assert grid["axisLabels"] == ["E", "N"]
    east, north = grid["axis"]
    assert (east["lowerBound"], east["upperBound"], east["resolution"]) == (
        ORIGIN[0],
        ORIGIN[0] + 600 * CELL,
        CELL,
    )
    assert (north["lowerBound"], north["upperBound"]) == (ORIGIN[1] - 400 * CELL, ORIGIN[1])
    assert [a["upperBound"] for a in grid["gridLimits"]["axis"]] == [599, 399]
    assert doc["domainSet"] == domain.json()
    fields = world.client.get("/collections/cov/coverage/rangetype").json()["field"]
    assert [(f["name"], f["uom"]["code"]) for f in fields] == [
        ("signal", "dBm"),
        ("quality", "percent"),
    ]
    assert fields[0]["nilValues"] == [{"value": NODATA, "reason": "nodata"}]
    classes = world.client.get("/conformance").json()["conformsTo"]
    assert set(CONFORMANCE) <= set(classes)
    paths = world.client.get("/api").json()["paths"]
    base = "/collections/{collectionId}/coverage"
    assert {base, f"{base}/domainset", f"{base}/rangetype"} <= set(paths)


def test_private_coverage_is_hidden_like_an_absent_one(world, cov):
    for path in ("coverage", "coverage/domainset", "coverage/rangetype"):
        hidden = world.client.get(f"/collections/cov-private/{path}")
        absent = world.client.get(f"/collections/nothing-here/{path}")
        assert hidden.status_code == absent.status_code == 404
        own = world.client.get(f"/collections/cov-private/{path}", headers=world.keys["viewer"])
        assert own.status_code == 200


def test_older_versions_stay_readable_with_version(world, cov, tmp_path):
    changed = write_signal_tif(tmp_path / "v2.tif")
    with rasterio.open(changed, "r+") as dst:
        dst.write(np.full((400, 600), -60.0, "float32"), 1)
    res = world.client.put(
        "/collections/cov/data",
        headers=world.keys["editor"],
        files={"file": ("v2.tif", changed.read_bytes())},
    )
    assert res.status_code == 200, res.text
    _res, now = read(world, "?properties=signal&subset=E(355000:355300)")
    _res, old = read(world, "?properties=signal&subset=E(355000:355300)&version=1")
    with now, old:
        assert (now.read(1) == -60.0).all()
        assert np.array_equal(old.read(1), signal_values()[0][:, :10])
    assert world.client.get("/collections/cov/coverage?version=7").status_code == 404
    ranged = world.client.get("/collections/cov/coverage/rangetype?version=1").json()
    assert ranged["field"][0]["statistics"]["maximum"] < -50.0


@pytest.mark.skipif(shutil.which("gdal_translate") is None, reason="GDAL's tools are not installed")
def test_gdal_reads_the_coverage(world, cov, tmp_path):
    """GDAL's OGCAPI driver (gdal-bin; rasterio's GDAL has none) reads our coverage: the
    grid from the domain set, the cells through `subset` + `scaleSize` requests. (The
    driver labels every coverage EPSG:4326 whatever its `srsName`: its own limitation.)"""
    out = tmp_path / "gdal.tif"
    with LiveServer(world.settings) as server:
        done = subprocess.run(
            ["gdal_translate", "-q", "-oo", "CACHE=NO", f"OGCAPI:{server.url}/collections/cov",
             str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,  # GDAL's WMS layer may still keep a cache folder where it runs
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with rasterio.open(out) as ds:
        assert ds.transform.almost_equals(SOURCE)
        assert ds.shape == (400, 600)
        with open_cog(world.store, world.store.get_collection("cov")) as stored:
            assert np.array_equal(ds.read(1), stored.read(1))  # whichever version is current


_AXIS_TEXT = st.sampled_from(["E", "N", "e", "Lat", "x", "", "E(", "N)", "*", ":", ","])
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["*", "", "1e400", "-0", "0x10", "١", '"3"']),
)
_AXIS_VALUE = st.builds(
    lambda axis, low, high, sep: f"{axis}({low}{sep}{high})",
    _AXIS_TEXT,
    _NUMBERS,
    _NUMBERS,
    st.sampled_from([":", "", "::", ","]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(
        ["subset", "scale-size", "scale-axes", "scale-factor", "bbox", "crs", "properties"]
    ),
    value=st.one_of(_AXIS_VALUE, _NUMBERS, st.text(max_size=30)),
    fmt=st.sampled_from(["tif", "png"]),
)
def test_any_parameter_value_is_an_answer_never_a_5xx(world, cov, name, value, fmt):
    res = world.client.get("/collections/cov/coverage", params={name: value, "f": fmt})
    assert res.status_code in (200, 204, 400), (name, value, res.text)
    if res.status_code == 400:
        assert res.json()["parameter"]
