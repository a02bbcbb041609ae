"""Zonal statistics: `gis_service.rasters.zonal` against a direct NumPy computation on the
test raster (cell-aligned boxes exactly; boxes cutting cells with the overlap fraction of
each edge cell computed by hand), then the `zonal-stats` process on both stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import rasterio
import shapely
from pyproj import Transformer

from gis_service.rasters.zonal import zonal_stats

from .cogs import signal_cog
from .tiffs import CELL, NODATA, ORIGIN, signal_values, write_signal_tif

THRESHOLD = -90.0


@pytest.fixture(scope="module")
def cog(tmp_path_factory) -> Path:
    return signal_cog(tmp_path_factory.mktemp("zonalcogs"))


def box_of_cells(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A box in UTM from fractional cell coordinates (column, row; rows grow south)."""
    return shapely.box(
        ORIGIN[0] + c0 * CELL, ORIGIN[1] - r1 * CELL, ORIGIN[0] + c1 * CELL, ORIGIN[1] - r0 * CELL
    )


def expected(c0: float, r0: float, c1: float, r1: float, band: int = 0) -> dict[str, float]:
    """The statistics by hand: each cell weighted by the part of it the box covers."""
    values = signal_values()[band].astype("float64")
    rows, cols = np.mgrid[0 : values.shape[0], 0 : values.shape[1]]
    wx = np.clip(np.minimum(cols + 1, c1) - np.maximum(cols, c0), 0, None)
    wy = np.clip(np.minimum(rows + 1, r1) - np.maximum(rows, r0), 0, None)
    weight = wx * wy
    valid = (weight > 0) & (values != NODATA)
    w, v = weight[valid], values[valid]
    if not len(v):
        return {"count": 0.0}
    return {
        "mean": float(np.sum(w * v) / np.sum(w)),
        "min": float(v.min()),
        "max": float(v.max()),
        "count": float(np.sum(w)),
        "share_above": float(np.sum(w[v >= THRESHOLD]) / np.sum(w)),
    }


def run(cog: Path, boxes: list[tuple[float, ...]], crs: str = "EPSG:32640", **kwargs):
    geoms = np.array([box_of_cells(*b) for b in boxes])
    if crs != "EPSG:32640":
        to = Transformer.from_crs("EPSG:32640", crs, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to.transform(*xy.T)))
    with rasterio.open(cog) as ds:
        return zonal_stats(ds, geoms, crs=crs, **kwargs)


ALIGNED = [(100, 50, 150, 80), (0, 0, 600, 400), (300, 10, 301, 11), (250, 100, 400, 390)]


def test_cell_aligned_polygons_equal_numpy_exactly(cog):
    got = run(cog, ALIGNED, threshold=THRESHOLD)
    for i, b in enumerate(ALIGNED):
        want = expected(*b)
        assert got["count"][i] == want["count"]  # whole cells: an exact count
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)  # float32 values
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-9, abs=1e-6)
        assert got["share_above"][i] == pytest.approx(want["share_above"], abs=1e-12)
        assert got["share_below"][i] == pytest.approx(1 - want["share_above"], abs=1e-12)
    assert 0 < got["share_above"][3] < 1  # the threshold cuts through that district


CUTTING = [(100.5, 50.25, 150.75, 80.5), (95.3, 70.1, 110.6, 90.9), (3.5, 3.5, 7.5, 7.5)]


def test_edge_cells_are_weighted_by_the_part_covered(cog):
    got = run(cog, CUTTING, threshold=THRESHOLD)
    for i, b in enumerate(CUTTING[:2]):
        want = expected(*b)
        assert got["count"][i] == pytest.approx(want["count"], rel=1e-9)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-7)
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)
        assert got["share_above"][i] == pytest.approx(want["share_above"], abs=1e-9)
    # the box over the sea only: no valid cell, so no statistics and a count of 0
    assert (
        got["count"][2] == 0 and np.isnan([got[k][2] for k in ("mean", "min", "share_above")]).all()
    )


def test_polygons_in_crs84_are_projected_to_the_raster(cog):
    got = run(cog, ALIGNED + CUTTING, crs="OGC:CRS84", threshold=THRESHOLD)
    for i, b in enumerate(ALIGNED + CUTTING[:2]):
        want = expected(*b)
        assert got["count"][i] == pytest.approx(want["count"], rel=1e-6)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-6)
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)


def test_second_band_outside_and_no_threshold(cog):
    got = run(cog, [(10, 10, 20, 20), (-50, -50, -10, -10)], band=2)
    assert set(got) == {"mean", "min", "max", "count"}
    assert got["mean"][0] == pytest.approx(expected(10, 10, 20, 20, band=1)["mean"])
    assert got["count"][1] == 0 and np.isnan(got["mean"][1])
    with rasterio.open(cog) as ds:
        empty = zonal_stats(ds, np.array([], dtype=object))
    assert len(empty["mean"]) == 0


# --- the zonal-stats process, both stores -----------------------------------------------

TO_CRS84 = Transformer.from_crs("EPSG:32640", "OGC:CRS84", always_xy=True)


def _crs84(geom: shapely.Polygon) -> dict:
    moved = shapely.transform(geom, lambda xy: np.column_stack(TO_CRS84.transform(*xy.T)))
    return orjson.loads(shapely.to_geojson(moved))


@pytest.fixture(scope="module")
def published(world, tmp_path_factory):
    """Raster `sig` (public), `sig-private`, and zones `districts` (public): the aligned
    and cutting boxes as CRS84 polygons, each with its index as `n`."""
    tif = write_signal_tif(tmp_path_factory.mktemp("zonal") / "signal.tif")
    assert world.upload("sig", tif, visibility="public").status_code == 201
    assert world.upload("sig-private", tif).status_code == 201
    boxes = ALIGNED + CUTTING
    features = [
        {
            "type": "Feature",
            "geometry": _crs84(box_of_cells(*b)),
            "properties": {"n": i, "name": f"district {i}"},
        }
        for i, b in enumerate(boxes)
    ]
    body = orjson.dumps({"type": "FeatureCollection", "features": features})
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "districts", "visibility": "public"},
        files={"file": ("districts.geojson", body)},
    )
    assert res.status_code == 201, res.text
    return boxes, features


def execute(world, inputs: dict, headers: dict | None = None):
    return world.client.post(
        "/processes/zonal-stats/execution", json={"inputs": inputs}, headers=headers or {}
    )


def test_process_statistics_equal_numpy(world, published):
    boxes, _features = published
    inputs = {
        "raster": {"collection": "sig"},
        "zones": {"collection": "districts"},
        "threshold": THRESHOLD,
    }
    res = execute(world, inputs)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["band"] == "signal" and body["threshold"] == THRESHOLD
    by_n = {f["properties"]["n"]: f["properties"] for f in body["features"]}
    assert sorted(by_n) == list(range(len(boxes)))
    for i, b in enumerate(boxes):
        want, got = expected(*b), by_n[i]
        assert got["count"] == pytest.approx(want["count"], rel=1e-6)
        if not want["count"]:
            assert got["mean"] is None and got["share_above"] is None
            continue
        assert got["mean"] == pytest.approx(want["mean"], rel=1e-6)
        assert got["min"] == pytest.approx(want["min"], abs=1e-4)
        assert got["max"] == pytest.approx(want["max"], abs=1e-4)
        assert got["share_above"] == pytest.approx(want["share_above"], abs=1e-6)
        assert got["share_below"] == pytest.approx(1 - want["share_above"], abs=1e-6)
        assert got["name"] == f"district {i}"


def test_band_filter_inline_zones_and_save(world, published):
    boxes, features = published
    res = execute(
        world,
        {
            "raster": {"collection": "sig"},
            "zones": {"collection": "districts", "filter": "n < 2"},
            "band": "quality",
        },
    )
    assert res.status_code == 200, res.text
    props = sorted((f["properties"] for f in res.json()["features"]), key=lambda p: p["n"])
    assert [p["n"] for p in props] == [0, 1] and "share_above" not in props[0]
    assert props[0]["mean"] == pytest.approx(expected(*boxes[0], band=1)["mean"], rel=1e-6)
    inline = {"type": "FeatureCollection", "features": features[:1]}
    saved = world.client.post(
        "/processes/zonal-stats/execution",
        json={
            "inputs": {
                "raster": {"collection": "sig"},
                "zones": inline,
                "threshold": -90,
                "save_as": "district-signal",
            }
        },
        headers=world.keys["editor"],
    )
    assert saved.status_code == 201, saved.text
    item = world.client.get(
        "/collections/district-signal/items", headers=world.keys["editor"]
    ).json()
    assert item["features"][0]["properties"]["count"] == pytest.approx(expected(*boxes[0])["count"])


@pytest.mark.parametrize(
    "inputs,status,parameter",
    [
        (
            {"raster": {"collection": "sig"}, "zones": {"collection": "districts"}, "band": "x"},
            400,
            "band",
        ),
        (
            {
                "raster": {"collection": "sig"},
                "zones": {"collection": "districts"},
                "threshold": "a",
            },
            400,
            "threshold",
        ),
        (
            {"raster": {"collection": "districts"}, "zones": {"collection": "districts"}},
            400,
            "raster",
        ),
        (
            {
                "raster": {"collection": "sig"},
                "zones": {"collection": "districts", "filter": "nope = 1"},
            },
            400,
            "zones.filter",
        ),
        (
            {"raster": {"collection": "sig-private"}, "zones": {"collection": "districts"}},
            404,
            None,
        ),
        ({"zones": {"collection": "districts"}}, 400, "raster"),
    ],
)
def test_bad_inputs_are_refused(world, published, inputs, status, parameter):
    res = execute(world, inputs, world.keys["other"])
    assert res.status_code == status, res.text
    if parameter is not None:
        assert res.json()["parameter"] == parameter


def test_private_raster_is_its_entitys(world, published):
    inputs = {"raster": {"collection": "sig-private"}, "zones": {"collection": "districts"}}
    assert execute(world, inputs, world.keys["viewer"]).status_code == 200
    assert execute(world, inputs).status_code == 404
