"""`coverage-gaps` over a raster (signal below a threshold), both stores: which features are
uncovered, the value under each, and the distance to the nearest covered cell against a
brute-force geodesic search over every cell of the test raster."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from gis_service.rasters import reach

from .tiffs import CELL, NODATA, ORIGIN, signal_values, write_signal_tif

THRESHOLD = -90.0
GEOD = Geod(ellps="WGS84")
TO_CRS84 = Transformer.from_crs("EPSG:32640", "OGC:CRS84", always_xy=True)
#: (column, row) on the test raster's grid (fractions inside a cell); -30: off the raster
PLACES = {
    "covered": (500.5, 100.5),
    "west": (50.5, 300.5),
    "middle": (230.2, 200.7),
    "sea": (20.5, 20.5),
    "off": (-30.0, 200.5),
}


def lonlat(col: float, row: float) -> tuple[float, float]:
    return TO_CRS84.transform(ORIGIN[0] + col * CELL, ORIGIN[1] - row * CELL)


def truth(col: float, row: float) -> tuple[float | None, float]:
    """The value under a place (None off the raster or on nodata) and the geodesic metres
    to the centre of the nearest cell at or above the threshold, over every cell."""
    values = signal_values()[0]
    rows, cols = np.nonzero((values >= THRESHOLD) & (values != NODATA))
    cx, cy = TO_CRS84.transform(ORIGIN[0] + (cols + 0.5) * CELL, ORIGIN[1] - (rows + 0.5) * CELL)
    lon, lat = lonlat(col, row)
    _, _, metres = GEOD.inv(np.full(len(cx), lon), np.full(len(cx), lat), cx, cy)
    r, c = int(np.floor(row)), int(np.floor(col))
    inside = 0 <= r < values.shape[0] and 0 <= c < values.shape[1]
    value = float(values[r, c]) if inside and values[r, c] != NODATA else None
    return value, float(np.min(metres))


@pytest.fixture(scope="module")
def published(world, tmp_path_factory):
    tif = write_signal_tif(tmp_path_factory.mktemp("gaps") / "signal.tif")
    assert world.upload("gapsig", tif, visibility="public").status_code == 201
    assert world.upload("gapsig-private", tif).status_code == 201
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": lonlat(*at)},
            "properties": {"place": name, "اسم": f"مدرسة {name}"},
        }
        for name, at in PLACES.items()
    ]
    west = [lonlat(40, 290), lonlat(61, 290), lonlat(61, 311), lonlat(40, 311), lonlat(40, 290)]
    features.append(
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [west]},
            "properties": {"place": "district", "اسم": "حي"},
        }
    )
    return {"type": "FeatureCollection", "features": features}


def execute(world, inputs: dict, headers: dict | None = None):
    return world.client.post(
        "/processes/coverage-gaps/execution", json={"inputs": inputs}, headers=headers or {}
    )


def test_uncovered_features_with_value_and_distance(world, published):
    res = execute(
        world, {"features": published, "raster": {"collection": "gapsig"}, "threshold": THRESHOLD}
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["band"] == "signal" and body["search_cell_m"] == CELL
    got = {f["properties"]["place"]: f["properties"] for f in body["features"]}
    assert set(got) == {"west", "middle", "sea", "off", "district"}  # "covered" is not a gap
    assert got["west"]["اسم"] == "مدرسة west"
    for name in ("west", "middle", "sea", "off"):
        value, metres = truth(*PLACES[name])
        if value is None:
            assert got[name]["signal"] is None
        else:
            assert got[name]["signal"] == pytest.approx(value, abs=1e-4)
            assert value < THRESHOLD
        assert got[name]["distance_m"] == pytest.approx(metres, rel=1e-3)
    assert got["district"]["signal"] < THRESHOLD  # judged at a point inside the box
    assert got["west"]["distance_m"] - CELL < got["district"]["distance_m"]
    assert got["district"]["distance_m"] < got["west"]["distance_m"] + CELL


def test_a_threshold_nothing_reaches_has_no_distance(world, published):
    res = execute(
        world, {"features": published, "raster": {"collection": "gapsig"}, "threshold": 100}
    )
    assert res.status_code == 200, res.text
    features = res.json()["features"]
    assert len(features) == len(published["features"])
    assert all(f["properties"]["distance_m"] is None for f in features)


def test_a_coarse_search_grid_stays_within_its_cells(world, published, monkeypatch):
    monkeypatch.setattr(reach, "MAX_CELLS", 100)  # 600 x 400 cells searched as 100 x 67
    res = execute(
        world,
        {"features": published, "raster": {"collection": "gapsig"}, "threshold": THRESHOLD},
    )
    assert res.status_code == 200, res.text
    body = res.json()
    coarse = body["search_cell_m"]
    assert coarse == pytest.approx(6 * CELL, rel=0.02)
    for f in body["features"]:
        name = f["properties"]["place"]
        if name in PLACES:
            _, metres = truth(*PLACES[name])
            assert abs(f["properties"]["distance_m"] - metres) <= 1.5 * coarse


def test_save_the_gaps_as_a_collection(world, published):
    res = world.client.post(
        "/processes/coverage-gaps/execution",
        json={
            "inputs": {
                "features": published,
                "raster": {"collection": "gapsig"},
                "threshold": THRESHOLD,
                "save_as": "schools-without-signal",
            }
        },
        headers=world.keys["editor"],
    )
    assert res.status_code == 201, res.text
    items = world.client.get(
        "/collections/schools-without-signal/items", headers=world.keys["editor"]
    ).json()
    assert {f["properties"]["place"] for f in items["features"]} == {
        "west",
        "middle",
        "sea",
        "off",
        "district",
    }


def test_the_polygon_path_still_answers(world, published):
    cover = shapely.box(*lonlat(400, 0), *lonlat(600, 400))
    res = execute(
        world,
        {
            "features": published,
            "coverage": {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(cover),
                "properties": {},
            },
        },
    )
    assert res.status_code == 200, res.text
    places = {f["properties"]["place"] for f in res.json()["features"]}
    assert "covered" not in places and "west" in places


SIG = {"collection": "gapsig"}


@pytest.mark.parametrize(
    "extra,status,parameter",
    [
        ({"raster": SIG, "threshold": -90, "coverage": {"collection": "gapsig"}}, 400, "coverage"),
        ({}, 400, "coverage"),
        ({"raster": SIG}, 400, "threshold"),
        ({"raster": SIG, "threshold": "high"}, 400, "threshold"),
        ({"raster": SIG, "threshold": -90, "band": "nope"}, 400, "band"),
        ({"raster": {"collection": "gapsig-private"}, "threshold": -90}, 404, None),
        ({"raster": SIG, "threshold": -90, "extra": 1}, 400, "extra"),
    ],
)
def test_bad_inputs_are_refused(world, published, extra, status, parameter):
    res = execute(world, {"features": published, **extra}, world.keys["other"])
    assert res.status_code == status, res.text
    if parameter is not None:
        assert res.json()["parameter"] == parameter


def test_threshold_without_a_raster_is_refused(world, published):
    cover = {"type": "Point", "coordinates": lonlat(500, 100)}
    res = execute(world, {"features": published, "coverage": cover, "threshold": -90})
    assert res.status_code == 400 and res.json()["parameter"] == "threshold"


def test_a_private_raster_is_its_entitys(world, published):
    inputs = {
        "features": published,
        "raster": {"collection": "gapsig-private"},
        "threshold": THRESHOLD,
    }
    assert execute(world, inputs, world.keys["viewer"]).status_code == 200
    assert execute(world, inputs).status_code == 404
