"""Generalised tiles on both stores: crowded layers stay within the feature and size bounds.

Two layers generated here, crowded enough that low-zoom tiles hold far more than a tile may
(2000 features): 50,000 points and 7,500 squares (tiny and large) in a 0.1 degree box.
Every coordinate is a float32 value, so that a GeoPackage R-tree (32-bit floats) holds the
boxes exactly and the tests' own tile arithmetic (numpy, from the coordinates) agrees with
the service's to the last feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import shapely.geometry
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import STORES, make_settings
from .mvt import BUFFER, decode, world

WMQ, CRS84Q = "WebMercatorQuad", "WorldCRS84Quad"
LIMIT = 2000  # features a tile may hold before it is generalised
MAX_BYTES = 500_000  # the bound on any tile
WEST, SOUTH, SIZE = 55.30, 25.20, 0.1
POINTS, TINY, LARGE, HUGE = 50_000, 5_000, 2_500, 20
TINY_SIDE = 0.0001  # under 1/256 of a tile up to matrix 13
MVT = "application/vnd.mapbox-vector-tile"


@dataclass
class Crowd:
    client: TestClient
    settings: Settings
    lon: np.ndarray  # point i (id i + 1)
    lat: np.ndarray
    kind: np.ndarray
    when: np.ndarray  # "YYYY-MM-DD"
    boxes: np.ndarray  # square j (id j + 1): minx, miny, maxx, maxy
    square_kind: np.ndarray


def f32(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32).astype(np.float64)


def off_edges(values: np.ndarray, axis: str) -> np.ndarray:
    """float32 values moved (by a float32 step) off every tile edge of every matrix up to
    22, in both sets: an edge's two sides are a matter of rounding, not a test's business."""
    values = f32(values)
    for _ in range(20):
        coords = (
            (values, np.full(len(values), SOUTH)) if axis == "x" else (WEST + 0 * values, values)
        )
        near = np.zeros(len(values), bool)
        for tms in (WMQ, CRS84Q):
            w = world(tms, *coords)[0 if axis == "x" else 1] * 2**22
            near |= np.abs(w - np.rint(w)) < 1e-3
        if not near.any():
            return values
        step = np.nextafter(values[near].astype(np.float32), np.float32(np.inf))
        values[near] = step.astype(np.float64)
    raise AssertionError("could not move the generated coordinates off the tile edges")


def generate(tmp: Path) -> tuple[dict[str, Any], Path, Path]:
    rng = np.random.default_rng(20240607)
    lon = off_edges(WEST + SIZE * rng.random(POINTS), "x")
    lat = off_edges(SOUTH + SIZE * rng.random(POINTS), "y")
    kind = rng.choice(np.array(["a", "b", "c"]), POINTS)
    days = rng.integers(0, 730, POINTS)
    when = (np.datetime64("2020-01-01") + days).astype(str)
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"n": i, "kind": str(kind[i]), "when": str(when[i])},
                "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]},
            }
            for i in range(POINTS)
        ],
    }
    sides = np.concatenate(
        [
            np.full(TINY, TINY_SIDE),
            0.002 + 0.004 * rng.random(LARGE),
            0.03 + 0.02 * rng.random(HUGE),  # seen from matrix 5 or 6 on
        ]
    )
    squares_count = TINY + LARGE + HUGE
    x0 = off_edges(WEST + (SIZE - sides) * rng.random(squares_count), "x")
    y0 = off_edges(SOUTH + (SIZE - sides) * rng.random(squares_count), "y")
    x1, y1 = off_edges(x0 + sides, "x"), off_edges(y0 + sides, "y")
    square_kind = np.array(["tiny"] * TINY + ["large"] * LARGE + ["huge"] * HUGE)
    squares = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"n": j, "kind": str(square_kind[j]), "label": f"sq {j}"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [x0[j], y0[j]],
                            [x1[j], y0[j]],
                            [x1[j], y1[j]],
                            [x0[j], y1[j]],
                            [x0[j], y0[j]],
                        ]
                    ],
                },
            }
            for j in range(squares_count)
        ],
    }
    points_path, squares_path = tmp / "crowd.geojson", tmp / "squares.geojson"
    points_path.write_bytes(orjson.dumps(points, option=orjson.OPT_SERIALIZE_NUMPY))
    squares_path.write_bytes(orjson.dumps(squares, option=orjson.OPT_SERIALIZE_NUMPY))
    data = dict(
        lon=lon,
        lat=lat,
        kind=kind,
        when=when,
        boxes=np.column_stack([x0, y0, x1, y1]),
        square_kind=square_kind,
    )
    return data, points_path, squares_path


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[dict[str, Any], Path, Path]:
    return generate(tmp_path_factory.mktemp("crowd-data"))


@pytest.fixture(scope="module", params=STORES)
def crowd(request, tmp_path_factory, generated) -> Iterator[Crowd]:
    data, points_path, squares_path = generated
    settings = make_settings(request.param, request, tmp_path_factory.mktemp("crowd"))
    store = open_store(settings)
    try:
        import_file(store, points_path, IngestOptions("crowd", temporal=("when", None)))
        import_file(store, squares_path, IngestOptions("squares"))
    finally:
        store.close()
    with TestClient(create_app(settings)) as client:
        yield Crowd(client, settings, **data)


# --- the tests' own tile arithmetic (numpy, from the generated coordinates) ---


def tiles_over(tms: str, z: int) -> list[tuple[int, int]]:
    """(row, col) of every tile of matrix z over the generated box."""
    x, y = world(tms, [WEST, WEST + SIZE], [SOUTH + SIZE, SOUTH])
    scale = 2**z
    rows = range(int(y[0] * scale), int(y[1] * scale) + 1)
    cols = range(int(x[0] * scale), int(x[1] * scale) + 1)
    return [(r, c) for r in rows for c in cols]


def point_tiles(crowd: Crowd, tms: str, z: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = world(tms, crowd.lon, crowd.lat)
    return np.floor(y * 2**z).astype(int), np.floor(x * 2**z).astype(int)


def points_in(crowd: Crowd, tms: str, z: int, row: int, col: int, buffer: float = 0.0):
    """Ids of the points in the tile (grown by `buffer` of a tile on each side)."""
    x, y = world(tms, crowd.lon, crowd.lat)
    x, y = x * 2**z - col, y * 2**z - row
    inside = (x >= -buffer) & (x < 1 + buffer) & (y >= -buffer) & (y < 1 + buffer)
    return np.flatnonzero(inside) + 1


def square_world(crowd: Crowd, tms: str) -> np.ndarray:
    """Squares' boxes in matrix 0 units: x0, y0 (top left), x1, y1 (bottom right)."""
    b = crowd.boxes
    x0, y0 = world(tms, b[:, 0], b[:, 3])
    x1, y1 = world(tms, b[:, 2], b[:, 1])
    return np.column_stack([x0, y0, x1, y1])


def squares_over(crowd: Crowd, tms: str, z: int, row: int, col: int, buffer: float = 0.0):
    """Indexes of the squares whose box meets the tile (grown by `buffer`)."""
    w = square_world(crowd, tms) * 2**z
    w -= np.array([col, row, col, row])
    return np.flatnonzero(
        (w[:, 0] <= 1 + buffer)
        & (w[:, 2] >= -buffer)
        & (w[:, 1] <= 1 + buffer)
        & (w[:, 3] >= -buffer)
    )


def crowded_point_zooms(crowd: Crowd, tms: str) -> list[int]:
    out = []
    for z in range(23):
        rows, cols = point_tiles(crowd, tms, z)
        _, counts = np.unique(rows * 2**24 + cols, return_counts=True)
        if counts.max() > LIMIT:
            out.append(z)
    return out


def crowded_square_zooms(crowd: Crowd, tms: str) -> list[int]:
    return [
        z
        for z in range(18)
        if max(len(squares_over(crowd, tms, z, r, c)) for r, c in tiles_over(tms, z)) > LIMIT
    ]


# --- fetching ---


def tile(crowd: Crowd, cid: str, tms: str, z: int, row: int, col: int, query: str = ""):
    """(the layer's features by id, the body) of a tile; ({}, b"") when it is 204."""
    url = f"/collections/{cid}/tiles/{tms}/{z}/{row}/{col}" + (f"?{query}" if query else "")
    res = crowd.client.get(url)
    assert res.status_code in (200, 204), res.text
    if res.status_code == 204:
        return {}, b""
    assert res.headers["content-type"] == MVT
    layers = decode(res.content)
    assert set(layers) == {cid}
    features = layers[cid]["features"]
    by_id = {f["id"]: f for f in features}
    assert len(by_id) == len(features), "a feature id repeats in one tile"
    return by_id, res.content


def generalised_zooms(crowd: Crowd, cid: str, tms: str) -> list[int]:
    doc = crowd.client.get(f"/collections/{cid}/tiles/{tms}").json()
    return [int(z) for z in doc["generalisation"]["generalisedTileMatrices"]]


# --- points ---


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_metadata_lists_exactly_the_crowded_point_zooms(crowd, tms):
    expected = crowded_point_zooms(crowd, tms)
    assert expected and expected[-1] < 22, "the generated layer should crowd some zooms"
    assert generalised_zooms(crowd, "crowd", tms) == expected


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_generalised_point_tiles_are_clusters_counting_every_point(crowd, tms):
    zooms = generalised_zooms(crowd, "crowd", tms)
    for z in zooms:
        for row, col in tiles_over(tms, z):
            features, body = tile(crowd, "crowd", tms, z, row, col)
            inside = points_in(crowd, tms, z, row, col)
            assert len(body) < MAX_BYTES
            if len(inside) <= LIMIT:  # a tile is generalised only when it is too full
                near = set(points_in(crowd, tms, z, row, col, BUFFER * 1.01).tolist())
                assert set(inside.tolist()) <= set(features) <= near
                assert all("count" not in f["properties"] for f in features.values())
                continue
            assert len(features) <= LIMIT and len(body) < MAX_BYTES / 10
            counts = [f["properties"]["count"] for f in features.values()]
            assert sum(counts) == len(inside), (z, row, col)
            assert all(set(f["properties"]) == {"count"} for f in features.values())
            assert set(features) <= set(inside.tolist())  # a cluster's id is one of its points
            for f in features.values():  # each cluster is drawn inside its tile
                x, y = f["geometry"]["coordinates"]
                assert 0 <= x <= 4096 and 0 <= y <= 4096
    crowded = max(
        len(points_in(crowd, tms, zooms[-1], r, c)) for r, c in tiles_over(tms, zooms[-1])
    )
    assert crowded > LIMIT  # the deepest generalised zoom really had a full tile


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_the_first_exact_zoom_holds_every_point(crowd, tms):
    z = generalised_zooms(crowd, "crowd", tms)[-1] + 1
    seen: set[int] = set()
    for row, col in tiles_over(tms, z):
        features, body = tile(crowd, "crowd", tms, z, row, col)
        assert len(body) < MAX_BYTES
        inside = set(points_in(crowd, tms, z, row, col).tolist())
        near = set(points_in(crowd, tms, z, row, col, BUFFER * 1.01).tolist())
        assert inside <= set(features) <= near, (z, row, col)
        assert all("count" not in f["properties"] for f in features.values())
        seen |= set(features)
    assert seen == set(range(1, POINTS + 1))
    # the attributes are the items' own
    some = sorted(seen)[:: POINTS // 5]
    for fid in some:
        item = crowd.client.get(f"/collections/crowd/items/{fid}").json()
        assert item["properties"]["n"] == fid - 1


@pytest.mark.parametrize(
    "query, selected",
    [
        ("filter=kind%3D%27a%27", lambda c: c.kind == "a"),
        ("kind=b", lambda c: c.kind == "b"),
        ("datetime=../2020-06-30", lambda c: c.when <= "2020-06-30"),
        (
            "filter=n%20%3C%2030000%20AND%20kind%3C%3E%27c%27",
            lambda c: (np.arange(POINTS) < 30000) & (c.kind != "c"),
        ),
    ],
)
def test_filtered_point_tiles_generalise_too(crowd, query, selected):
    tms, z = WMQ, 10
    (row, col), *_ = tiles_over(tms, z)
    assert len(tiles_over(tms, z)) == 1, "the generated box lies in one z10 tile"
    chosen = set(np.flatnonzero(selected(crowd)) + 1) & set(points_in(crowd, tms, z, row, col))
    assert len(chosen) > LIMIT
    features, body = tile(crowd, "crowd", tms, z, row, col, query)
    assert 0 < len(features) <= LIMIT and len(body) < MAX_BYTES / 10
    assert sum(f["properties"]["count"] for f in features.values()) == len(chosen)
    assert set(features) <= chosen


def test_a_filter_selecting_few_points_gives_them_whole(crowd):
    tms, z = WMQ, 10
    (row, col), *_ = tiles_over(tms, z)
    features, _body = tile(crowd, "crowd", tms, z, row, col, "filter=n%20%3C%20500")
    assert set(features) == set(range(1, 501))
    assert all(set(f["properties"]) == {"n", "kind", "when"} for f in features.values())
    features, _body = tile(crowd, "crowd", tms, z, row, col, "filter=n%20%3C%20500&properties=kind")
    assert set(features) == set(range(1, 501))
    assert all(set(f["properties"]) == {"kind"} for f in features.values())


# --- polygons ---


def extents(crowd: Crowd, tms: str, z: int, chosen: np.ndarray) -> np.ndarray:
    """Each square's larger side, in tiles of matrix z."""
    w = square_world(crowd, tms)[chosen] * 2**z
    return np.maximum(w[:, 2] - w[:, 0], w[:, 3] - w[:, 1])


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_metadata_lists_exactly_the_crowded_polygon_zooms(crowd, tms):
    expected = crowded_square_zooms(crowd, tms)
    assert expected
    assert generalised_zooms(crowd, "squares", tms) == expected
    doc = crowd.client.get(f"/collections/squares/tiles/{tms}").json()
    assert "drawn as their bounding boxes" in doc["generalisation"]["geometries"]


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_generalised_polygon_tiles_keep_the_largest(crowd, tms):
    """Squares under 1/256 of a tile are dropped, of the others the 2000 largest kept."""
    zooms = generalised_zooms(crowd, "squares", tms)
    assert zooms
    for z in zooms:
        for row, col in tiles_over(tms, z):
            over = squares_over(crowd, tms, z, row, col)
            if len(over) <= LIMIT:
                continue
            features, body = tile(crowd, "squares", tms, z, row, col)
            assert len(features) <= LIMIT and len(body) < MAX_BYTES
            near = squares_over(crowd, tms, z, row, col, BUFFER)
            size = dict(zip((near + 1).tolist(), extents(crowd, tms, z, near), strict=True))
            kept = set(features)
            assert kept <= set(size), (z, row, col)
            assert all(size[fid] >= 1 / 256 for fid in kept), "a polygon too small was kept"
            visible = {fid for fid, s in size.items() if s >= 1 / 256}
            inside = {int(j) + 1 for j in over} & visible
            if len(visible) > LIMIT:  # the largest kept, to the limit
                assert len(kept) > LIMIT * 0.99
                missed = inside - kept
                assert min(size[f] for f in kept) >= max(size[f] for f in missed) * (1 - 1e-9)
            else:  # every visible square meeting the tile itself is drawn
                assert inside <= kept, (z, row, col)
            for fid, feature in list(features.items())[:50]:
                assert feature["properties"]["label"] == f"sq {fid - 1}"
                assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_generalised_polygons_are_drawn_where_they_are(crowd, tms):
    """In a generalised tile each kept square spans its own box to a tile unit, whether
    drawn from its geometry or (under two display pixels across) as its index box; both
    kinds occur."""
    world = square_world(crowd, tms)
    sizes = []
    for z in crowded_square_zooms(crowd, tms):
        for row, col in tiles_over(tms, z):
            features, _body = tile(crowd, "squares", tms, z, row, col)
            origin = np.array([col, row, col, row]) * 4096
            for fid, feature in features.items():
                expected = np.clip(world[fid - 1] * 2**z * 4096 - origin, -64, 4096 + 64)
                drawn = shapely.geometry.shape(feature["geometry"]).bounds
                assert np.allclose(drawn, expected, rtol=0, atol=1.0), (z, fid, drawn, expected)
                sizes.append(max(expected[2] - expected[0], expected[3] - expected[1]))
    assert min(sizes) < 32 <= max(sizes)  # boxes from the index and shapes both checked


def test_polygon_generalisation_really_drops_and_keeps(crowd):
    """At z10 the 5,000 tiny squares are gone, the others cut to the 2,000 largest."""
    tms, z = WMQ, 10
    (row, col), *_ = tiles_over(tms, z)
    features, _body = tile(crowd, "squares", tms, z, row, col)
    assert len(features) == LIMIT
    assert all(fid > TINY for fid in features)  # no tiny one
    sides = crowd.boxes[:, 2] - crowd.boxes[:, 0]
    smallest_kept = min(sides[fid - 1] for fid in features)
    assert smallest_kept >= np.sort(sides[TINY:])[LARGE + HUGE - LIMIT - 2]
    assert set(range(TINY + LARGE + 1, TINY + LARGE + HUGE + 1)) <= set(features)


@pytest.mark.parametrize(
    "query, expected",
    [
        # 5,000 tiny squares: generalised, every one too small to see
        ("filter=kind%3D%27tiny%27", lambda kept: not kept),
        # 2,500 large: generalised to the 2,000 largest
        (
            "kind=large",
            lambda kept: len(kept) == LIMIT and TINY < min(kept) <= max(kept) <= TINY + LARGE,
        ),
        # 1,500 large ones: few enough to be sent whole
        (
            "filter=kind%3D%27large%27%20AND%20n%20%3E%3D%206000",
            lambda kept: kept == set(range(6001, 7501)),
        ),
    ],
)
def test_filtered_polygon_tiles_generalise_too(crowd, query, expected):
    tms, z = WMQ, 10
    (row, col), *_ = tiles_over(tms, z)
    features, body = tile(crowd, "squares", tms, z, row, col, query + "&properties=n")
    assert len(features) <= LIMIT and len(body) < MAX_BYTES
    assert expected(set(features)), sorted(features)[:10]
    assert all(set(f["properties"]) == {"n"} for f in features.values())
    assert all(f["properties"]["n"] == fid - 1 for fid, f in features.items())


# --- what a low-zoom tile reads ---


class Reads:
    """The store, observed: each call of the two reads a tile can make, and the rows a
    selection holds. Everything is delegated unchanged (this watches, it mocks nothing)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.boxes = 0
        self.streams = 0
        self.rows = 0
        self.opened = 0  # whole streams (a filtered selection's index is built from one)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def feature_boxes(self, **kwargs: Any) -> Any:
        self.boxes += 1
        return self.store.feature_boxes(**kwargs)

    def open_stream(self, **kwargs: Any) -> Any:
        self.opened += 1
        return self.store.open_stream(**kwargs)

    def read_selection(self, **kwargs: Any) -> Any:
        self.streams += 1
        batches = self.store.read_selection(**kwargs)
        self.rows += sum(len(batch) for batch in batches)
        return batches


@pytest.fixture
def reads(crowd) -> Iterator[Reads]:
    """A fresh tile service (no tile, no index yet) whose store reads are counted."""
    from gis_service.tiles.service import TileService

    state = crowd.client.app.state
    kept = state.tiles
    watched = Reads(kept.renderer.store)
    state.tiles = TileService(watched, 64 * 2**20, 5_000_000)  # type: ignore[arg-type]
    try:
        yield watched
    finally:
        state.tiles = kept


@pytest.mark.parametrize("tms", [WMQ, CRS84Q])
def test_low_zoom_tiles_never_read_the_whole_layer(crowd, reads, tms):
    """z0-z6 from the per-generation index: its one build reads the boxes (no geometry);
    then a point tile reads no feature at all, a polygon tile at most the 2000 it draws."""
    for cid, total in (("crowd", POINTS), ("squares", TINY + LARGE + HUGE)):
        reads.boxes = drawn = 0
        for z in range(7):
            for row, col in tiles_over(tms, z):
                reads.streams = reads.rows = 0
                features, _body = tile(crowd, cid, tms, z, row, col)
                if cid == "crowd":
                    assert reads.streams == 0 and reads.rows == 0
                    assert sum(f["properties"]["count"] for f in features.values()) == total
                else:
                    # only the huge squares are over 1/256 of such a tile
                    assert reads.streams <= 1 and reads.rows == len(features) <= HUGE
                    assert all(fid > TINY + LARGE for fid in features)
                    drawn += len(features)
        assert reads.boxes == 1  # the index, built once for the generation
        assert cid == "crowd" or drawn > 0  # some huge squares were drawn
    # a second round of the same tiles, cached or not, builds nothing again
    reads.boxes = 0
    crowd.client.app.state.tiles.cache.max_bytes = 0  # nothing kept: each tile renders anew
    for z in range(7):
        for row, col in tiles_over(tms, z):
            reads.streams = 0
            tile(crowd, "crowd", tms, z, row, col)
            assert reads.streams == 0
    assert reads.boxes == 0


@pytest.mark.parametrize(
    "cid, query, selected",
    [
        ("crowd", "filter=kind%3D%27a%27", lambda c: c.kind == "a"),
        ("crowd", "kind=b&properties=n", lambda c: c.kind == "b"),
        ("squares", "filter=kind%3C%3E%27tiny%27", lambda c: c.square_kind != "tiny"),
    ],
)
def test_filtered_low_zoom_tiles_read_the_selection_once(crowd, reads, cid, query, selected):
    """z0-z6 with a filter: the first tile streams the selection once, to index it; no
    tile of those matrices then reads more than it draws (points: none, clusters from the
    index, counting exactly the selected points in the tile)."""
    chosen = set(np.flatnonzero(selected(crowd)) + 1)
    drawn = 0
    for z in range(7):
        for row, col in tiles_over(WMQ, z):
            reads.streams = reads.rows = 0
            features, _body = tile(crowd, cid, WMQ, z, row, col, query)
            assert reads.opened == 1  # the one index build, at the first tile
            assert reads.rows <= LIMIT
            if cid == "crowd":
                inside = chosen & set(points_in(crowd, WMQ, z, row, col).tolist())
                if len(inside) > LIMIT:
                    assert reads.rows == 0
                    counts = [f["properties"]["count"] for f in features.values()]
                    assert sum(counts) == len(inside), (z, row, col)
                else:
                    assert inside <= set(features) <= chosen
            else:  # the largest selected squares, those not under a pixel
                assert set(features) <= chosen and reads.rows == len(features)
                drawn += len(features)
    assert cid == "crowd" or drawn > 0


def test_the_tile_cache_is_bounded(crowd):
    """A 1 MB cache keeps a tile until ~1 MB of others were rendered after it, then
    renders it anew (the store is read again): bounded, least recently used first."""
    from gis_service.tiles.service import TileService

    state = crowd.client.app.state
    kept = state.tiles
    reads = Reads(kept.renderer.store)
    state.tiles = TileService(reads, 2**20, 5_000_000)  # type: ignore[arg-type]
    try:
        tms = WMQ
        z = generalised_zooms(crowd, "crowd", tms)[-1] + 1
        row, col = max(tiles_over(tms, z), key=lambda t: len(points_in(crowd, tms, z, *t)))
        _features, body = tile(crowd, "crowd", tms, z, row, col)
        assert 2**20 // 100 < len(body) < 2**20 // 8  # a tile is cached, 100 don't fit
        streams = reads.streams
        assert tile(crowd, "crowd", tms, z, row, col)[1] == body
        assert reads.streams == streams  # from the cache
        others = 0
        for k in range(1, 200):
            others += len(tile(crowd, "crowd", tms, z, row, col, f"filter=n%3E%3D{k}")[1])
            if others > 2**20:
                break
        assert others > 2**20
        streams = reads.streams
        assert tile(crowd, "crowd", tms, z, row, col)[1] == body  # the same bytes again
        assert reads.streams == streams + 1  # but rendered anew: it had been dropped
    finally:
        state.tiles = kept
