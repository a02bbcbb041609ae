"""Property-based: random filters, boxes, sort orders and page sizes give the same answer on
both stores, and the same selection and order as GeoPandas/Shapely compute from the source.

The expected answers come from the source files and a small CQL2 evaluator written here
(three-valued logic with pandas' nullable booleans), never from the service itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import CQL2_DATA, DATA, STORES, make_settings
from ..ordering import expected_order

PLACES_FILE = CQL2_DATA / "geojson" / "ne_110m_populated_places_simple.geojson"
LAYERS = {
    "facilities": (DATA / "facilities.geojson", None),
    "districts": (DATA / "districts.geojson", None),
    "places": (CQL2_DATA / "ne110m4cql2.gpkg", "ne_110m_populated_places_simple"),
}
SOURCES = {
    "facilities": DATA / "facilities.geojson",
    "districts": DATA / "districts.geojson",
    "places": PLACES_FILE,
}


def _frame(path) -> gpd.GeoDataFrame:
    features = json.loads(path.read_text())["features"]
    rows = [{**f["properties"], "_id": f["id"]} for f in features]
    geoms = [shapely.geometry.shape(f["geometry"]) if f["geometry"] else None for f in features]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="OGC:CRS84").set_index("_id", drop=False)


FRAMES = {name: _frame(path) for name, path in SOURCES.items()}
RECORDS = {
    name: {f["id"]: f["properties"] for f in json.loads(path.read_text())["features"]}
    for name, path in SOURCES.items()
}
Truth = pd.Series  # nullable boolean ("boolean" dtype): True, False or <NA>


def _known(frame: gpd.GeoDataFrame, column: str, test: Callable[[pd.Series], pd.Series]) -> Truth:
    """A comparison in SQL's three-valued logic: unknown where the value is NULL."""
    values = frame[column]
    nulls = values.isna()
    result = pd.Series(False, index=frame.index, dtype="boolean")
    present = ~nulls
    result[present] = test(values[present]).astype(bool)
    result[nulls] = pd.NA
    return result


@dataclass(frozen=True)
class Expr:
    text: str
    evaluate: Callable[[gpd.GeoDataFrame], Truth]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.S
    )


def _number(layer: str, column: str) -> st.SearchStrategy[Expr]:
    values = FRAMES[layer][column].dropna()
    low, high = int(values.min()), int(values.max())
    ops = {"=": "eq", "<>": "ne", "<": "lt", ">": "gt", "<=": "le", ">=": "ge"}
    pick = st.one_of(
        st.sampled_from(sorted(values.astype(int).unique().tolist())), st.integers(low, high)
    )

    def compare(op: str, n: int) -> Expr:
        return Expr(
            f"{column} {op} {n}", lambda f: _known(f, column, lambda v: getattr(v, ops[op])(n))
        )

    def between(a: int, b: int) -> Expr:
        a, b = min(a, b), max(a, b)
        return Expr(
            f"{column} BETWEEN {a} AND {b}",
            lambda f: _known(f, column, lambda v: (v >= a) & (v <= b)),
        )

    def arithmetic(n: int) -> Expr:
        return Expr(f"{column} * 2 + 1 > {n}", lambda f: _known(f, column, lambda v: v * 2 + 1 > n))

    return st.one_of(
        st.builds(compare, st.sampled_from(list(ops)), pick),
        st.builds(between, pick, pick),
        st.builds(arithmetic, pick),
    )


def _text(layer: str, column: str) -> st.SearchStrategy[Expr]:
    values = sorted(FRAMES[layer][column].dropna().unique().tolist())
    value = st.sampled_from(values)

    def equals(v: str) -> Expr:
        return Expr(f"{column} = {_quote(v)}", lambda f: _known(f, column, lambda s: s == v))

    def among(vs: list[str]) -> Expr:
        listed = ", ".join(_quote(v) for v in vs)
        return Expr(f"{column} IN ({listed})", lambda f: _known(f, column, lambda s: s.isin(vs)))

    def like(v: str, k: int) -> Expr:
        pattern = v[:k].replace("%", "").replace("_", "").replace("\\", "") + "%"
        rx = _like(pattern)
        return Expr(
            f"{column} LIKE {_quote(pattern)}",
            lambda f: _known(f, column, lambda s: s.map(lambda t: bool(rx.fullmatch(t)))),
        )

    def casei(v: str) -> Expr:
        upper = v.upper()
        return Expr(
            f"CASEI({column}) = CASEI({_quote(upper)})",
            lambda f: _known(f, column, lambda s: s.str.lower() == upper.lower()),
        )

    def less(v: str) -> Expr:
        return Expr(f"{column} < {_quote(v)}", lambda f: _known(f, column, lambda s: s < v))

    def is_null(negate: bool) -> Expr:
        text = f"{column} IS {'NOT ' if negate else ''}NULL"
        return Expr(
            text, lambda f: pd.Series(f[column].isna() != negate, index=f.index, dtype="boolean")
        )

    return st.one_of(
        st.builds(equals, value),
        st.builds(among, st.lists(value, min_size=1, max_size=4, unique=True)),
        st.builds(like, value, st.integers(1, 4)),
        st.builds(casei, value),
        st.builds(less, value),
        st.builds(is_null, st.booleans()),
    )


def _boxes(layer: str) -> st.SearchStrategy[tuple[float, float, float, float]]:
    x0, y0, x1, y1 = FRAMES[layer].total_bounds
    xs = st.floats(float(x0), float(x1), allow_nan=False)
    ys = st.floats(float(y0), float(y1), allow_nan=False)
    return st.tuples(xs, ys, xs, ys).map(
        lambda b: (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
    )


def _spatial(layer: str) -> st.SearchStrategy[Expr]:
    def predicate(op: str, box: tuple[float, float, float, float], triangle: bool) -> Expr:
        # plain decimals: the CQL2 text parser reads no exponents inside WKT
        x0, y0, x1, y1 = (round(v, 7) for v in box)
        if triangle:
            shape = shapely.Polygon([(x0, y0), (x1, y0), (x0, y1)])
        else:
            shape = shapely.box(x0, y0, x1, y1)
        ring = ", ".join(f"{x:.7f} {y:.7f}" for x, y in shape.exterior.coords)
        wkt = f"POLYGON(({ring}))"
        method = {
            "S_INTERSECTS": "intersects",
            "S_WITHIN": "within",
            "S_DISJOINT": "disjoint",
            "S_CONTAINS": "contains",
            "S_OVERLAPS": "overlaps",
        }[op]

        def evaluate(f: gpd.GeoDataFrame) -> Truth:
            geoms = f.geometry
            result = pd.Series(getattr(geoms, method)(shape), index=f.index, dtype="boolean")
            result[geoms.isna()] = pd.NA
            return result

        return Expr(f"{op}(geometry, {wkt})", evaluate)

    return st.builds(
        predicate,
        st.sampled_from(["S_INTERSECTS", "S_WITHIN", "S_DISJOINT", "S_CONTAINS", "S_OVERLAPS"]),
        # a literal polygon needs an area (a collapsed ring is a 400, rightly)
        _boxes(layer).filter(lambda b: b[2] - b[0] > 1e-5 and b[3] - b[1] > 1e-5),
        st.booleans(),
    )


def _dates(layer: str, column: str) -> st.SearchStrategy[Expr]:
    def before(day: int) -> Expr:
        text = (pd.Timestamp("1975-01-01") + pd.Timedelta(days=day)).strftime("%Y-%m-%d")
        return Expr(
            f"{column} < DATE({_quote(text)})",
            lambda f: _known(f, column, lambda s: s.astype(str).str[:10] < text),
        )

    return st.builds(before, st.integers(0, 365 * 51))


ATOMS = {
    "facilities": st.one_of(
        _number("facilities", "capacity"),
        _text("facilities", "category"),
        _text("facilities", "name_ar"),
        _text("facilities", "name_en"),
        _spatial("facilities"),
        _dates("facilities", "opened"),
    ),
    "districts": st.one_of(
        _number("districts", "population"), _text("districts", "name_ar"), _spatial("districts")
    ),
    "places": st.one_of(
        _number("places", "pop_max"),
        _text("places", "namealt"),
        _text("places", "meganame"),
        _text("places", "adm0name"),
        _spatial("places"),
    ),
}


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def both(a: Expr, b: Expr) -> Expr:
        return Expr(f"({a.text}) AND ({b.text})", lambda f: a.evaluate(f) & b.evaluate(f))

    def either(a: Expr, b: Expr) -> Expr:
        return Expr(f"({a.text}) OR ({b.text})", lambda f: a.evaluate(f) | b.evaluate(f))

    def negate(a: Expr) -> Expr:
        return Expr(f"NOT ({a.text})", lambda f: ~a.evaluate(f))

    return st.one_of(
        st.builds(both, children, children),
        st.builds(either, children, children),
        st.builds(negate, children),
    )


def filters(layer: str) -> st.SearchStrategy[Expr]:
    return st.recursive(ATOMS[layer], _combine, max_leaves=4)


SORTABLE = {
    "facilities": ["category", "capacity", "name_ar", "opened", "district"],
    "districts": ["population", "name_en", "area_km2"],
    "places": ["namealt", "pop_max", "adm0name", "meganame", "date"],
}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, str], Expr | None, tuple | None, str | None]:
    layer = draw(st.sampled_from(list(LAYERS)))
    params: dict[str, str] = {"limit": str(draw(st.sampled_from([333, 10000])))}
    expr = draw(st.none() | filters(layer))
    if expr is not None:
        params["filter"] = expr.text
    box = draw(st.none() | _boxes(layer))
    if box is not None:
        params["bbox"] = ",".join(repr(v) for v in box)
    keys = draw(st.lists(st.sampled_from(SORTABLE[layer]), max_size=2, unique=True))
    sortby = ",".join(draw(st.sampled_from(["", "-"])) + k for k in keys) or None
    if sortby:
        params["sortby"] = sortby
    return layer, params, expr, box, sortby


@pytest.fixture(scope="module")
def clients(request, tmp_path_factory) -> Iterator[dict[str, TestClient]]:
    made = {}
    stores = []
    for kind in STORES:
        settings = make_settings(kind, request, tmp_path_factory.mktemp(f"prop-{kind}"))
        store = open_store(settings)
        stores.append(store)
        for cid, (path, layer) in LAYERS.items():
            import_file(store, path, IngestOptions(collection_id=cid, layer=layer))
        made[kind] = TestClient(create_app(settings)).__enter__()
    yield made
    for client in made.values():
        client.__exit__(None, None, None)
    for store in stores:
        store.close()


def _walk(client: TestClient, layer: str, params: dict[str, str]) -> tuple[list[dict], int | None]:
    response = client.get(f"/collections/{layer}/items", params=params)
    assert response.status_code == 200, (params, response.text)
    pages = [response.json()]
    while nxt := [link["href"] for link in pages[-1]["links"] if link["rel"] == "next"]:
        pages.append(client.get(nxt[0]).json())
    features = [f for page in pages for f in page["features"]]
    return features, pages[0].get("numberMatched")


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=requests())
def test_random_queries_agree_across_stores_and_with_geopandas(clients, case):
    layer, params, expr, box, sortby = case
    answers = {kind: _walk(client, layer, params) for kind, client in clients.items()}
    gpkg, pg = answers["geopackage"], answers["postgis"]
    assert gpkg == pg, params  # byte-identical features and counts

    frame = FRAMES[layer]
    keep = pd.Series(True, index=frame.index, dtype="boolean")
    if expr is not None:
        keep &= expr.evaluate(frame)
    if box is not None:
        inside = frame.geometry.intersects(shapely.box(*box)) | frame.geometry.isna()
        keep &= pd.Series(inside, index=frame.index, dtype="boolean")
    selected = keep.fillna(False).astype(bool)
    ids = frame.index[selected].tolist()
    expected = expected_order(RECORDS[layer], sortby, ids) if sortby else sorted(ids)
    features, matched = gpkg
    assert [f["id"] for f in features] == expected, params
    assert matched == len(expected), params
