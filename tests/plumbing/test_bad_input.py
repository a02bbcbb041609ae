"""Bad input answers 4xx, never 500, and the same on both stores (issue 10).

Huge integers, non-ASCII digits and other spellings of feature ids, NUL characters in
every kind of input, very long strings, and `datetime` against features with no time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import orjson
import pytest
import shapely
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.domain.filters import parse_filter
from gis_service.domain.query import FeatureQuery
from gis_service.errors import IngestError
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import Store
from gis_service.store.factory import open_store
from gis_service.store.geopackage.query import GpkgDialect, Layout
from gis_service.store.postgis.query import PgDialect
from gis_service.store.postgis.store import PostgisStore
from gis_service.store.sql import quote as quote_name
from gis_service.store.where import build_where

from ..conftest import STORES, issue_key, make_settings, run_cli

HUGE = "99999999999999999999"


def point(x: float, **props) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [55.4 + x / 100, 25.3]},
    }


def collection_of(*features: dict) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": list(features)})


SITES = collection_of(
    point(1, name="alpha", capacity=10, score=1.5, when="2022-06-01"),
    point(2, name="beta", capacity=20, score=2.5, when=None),
    point(3, name="gamma", capacity=30, score=3.5, when="2019-03-01"),
)
# START,END: closed; ongoing (no end); no start; no time at all
SPANS = collection_of(
    point(1, label="closed", start="2021-01-01", end="2021-12-31"),
    point(2, label="ongoing", start="2019-01-01", end=None),
    point(3, label="no start", start=None, end="2020-06-30"),
    point(4, label="undated", start=None, end=None),
)


class World:
    def __init__(self, client: TestClient, store: Store, settings: Settings, editor: dict):
        self.client, self.store, self.settings, self.editor = client, store, settings, editor

    def etag(self, cid: str, fid: int) -> str:
        return self.client.get(f"/collections/{cid}/items/{fid}").headers["etag"]

    def ids(self, cid: str, **params: str) -> list[int]:
        res = self.client.get(f"/collections/{cid}/items", params={"limit": "100", **params})
        assert res.status_code == 200, res.text
        return [f["id"] for f in res.json()["features"]]


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("bad-input")
    settings = make_settings(request.param, request, tmp)
    store = open_store(settings)
    editor = issue_key(store, "sha", Role.ADMIN, "Health", "الصحة")
    for cid, content, temporal in (
        ("sites", SITES, ("when", None)),
        ("edits", SITES, ("when", None)),
        ("spans", SPANS, ("start", "end")),
    ):
        path = tmp / f"{cid}.geojson"
        path.write_bytes(content)
        import_file(store, path, IngestOptions(collection_id=cid, temporal=temporal))
        store.catalog.set_access(cid, AccessPolicy(owner="sha", visibility=Visibility.PUBLIC))
    with TestClient(create_app(settings)) as client:
        yield World(client, store, settings, editor)
    store.close()


def problem(res, status: int, parameter: str | None = None) -> dict:
    assert res.status_code == status, res.text
    body = res.json()
    if parameter is not None:
        assert body.get("parameter") == parameter or body["detail"].startswith(parameter), body
    return body


# -- 1 and 2: huge integers, and one spelling per feature id ---------------------------

NOT_IDS = [HUGE, "9223372036854775808", "-1", "+1", "01", "%20%201", "1%20", "%D9%A1", "1_0", "²"]


@pytest.mark.parametrize("spelling", NOT_IDS)
def test_other_spellings_of_an_id_are_absent(world, spelling):
    assert world.client.get("/collections/sites/items/1").status_code == 200
    res = world.client.get(f"/collections/sites/items/{spelling}")
    problem(res, 404)


@pytest.mark.parametrize("spelling", ["%20%201", "%D9%A1", "01", HUGE])
def test_edits_of_other_spellings_are_absent_and_change_nothing(world, spelling):
    before = world.client.get("/collections/edits/items/1").json()
    headers = {**world.editor, "If-Match": world.etag("edits", 1)}
    url = f"/collections/edits/items/{spelling}"
    patch = {"properties": {"name": "changed"}}
    problem(world.client.patch(url, headers=headers, content=orjson.dumps(patch)), 404)
    replacement = point(9, name="replaced", capacity=1)
    problem(world.client.put(url, headers=headers, content=orjson.dumps(replacement)), 404)
    problem(world.client.delete(url, headers=headers), 404)
    after = world.client.get("/collections/edits/items/1").json()
    assert after["properties"] == before["properties"]


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "9223372036854775808"])
def test_an_integer_no_column_holds_matches_nothing(world, value):
    assert world.ids("sites", capacity=value) == []
    doc = world.client.get("/collections/sites/items", params={"capacity": value}).json()
    assert doc["numberMatched"] == 0


def test_cql2_with_huge_integers(world):
    assert world.ids("sites", filter=f"capacity = {HUGE}") == []
    assert world.ids("sites", filter=f"capacity < {HUGE}") == [1, 2, 3]
    assert world.ids("sites", filter=f"capacity > -{HUGE}") == [1, 2, 3]
    assert world.ids("sites", filter="capacity = 9223372036854775807") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("capacity", "%D9%A1%D9%A0"),  # Arabic-Indic 10
        ("capacity", "%20%2010"),
        ("capacity", "1_0"),
        ("capacity", "%C2%B2"),  # superscript two
        ("score", "%D9%A1.5"),
        ("score", "1_0"),
    ],
)
def test_numbers_are_ascii(world, name, value):
    res = world.client.get(f"/collections/sites/items?{name}={value}")
    problem(res, 400, name)


@pytest.mark.parametrize(
    "crs",
    [
        "EPSG:%D9%A4%D9%A3%D9%A2%D9%A6",  # EPSG:4326 in Arabic-Indic digits
        "http://www.opengis.net/def/crs/EPSG/0/%C2%B2",
        "EPSG:" + HUGE,
    ],
)
def test_crs_codes_are_ascii(world, crs):
    problem(world.client.get(f"/collections/sites/items?crs={crs}"), 400, "crs")


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("value", ["%D9%A1%D9%A0", "%20%2010", "1_0", "%C2%B2", "+5"])
def test_limit_and_offset_are_ascii(world, name, value):
    problem(world.client.get(f"/collections/sites/items?{name}={value}"), 400, name)


def test_ascii_integers_with_a_sign_still_filter(world):
    assert world.ids("sites", capacity="10") == [1]
    assert world.ids("sites", capacity="+20") == [2]
    assert world.ids("sites", capacity="-10") == []


def test_huge_integer_values_in_edits_are_400(world):
    headers = {**world.editor, "If-Match": world.etag("edits", 2)}
    body = b'{"properties": {"capacity": 9223372036854775808}}'
    problem(world.client.patch("/collections/edits/items/2", headers=headers, content=body), 400)
    created = (
        b'{"type": "Feature", "geometry": null, "properties": {"capacity": 18446744073709551615}}'
    )
    problem(
        world.client.post("/collections/edits/items", headers=world.editor, content=created), 400
    )


# -- 3: NUL characters -----------------------------------------------------------------


def test_ids_with_nul_are_absent(world):
    problem(world.client.get("/collections/a%00b"), 404)
    problem(world.client.get("/collections/a%00b/items"), 404)
    problem(world.client.get("/collections/a%00b/items/1"), 404)
    problem(world.client.get("/collections/a%00b/queryables"), 404)
    problem(world.client.get("/jobs/a%00b", headers=world.editor), 404)
    problem(world.client.get("/collections/sites/items/1%00"), 404)


def test_nul_in_a_property_filter_is_400(world):
    problem(world.client.get("/collections/sites/items?name=a%00b"), 400, "name")


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("cql2-text", "name = 'x\x00'"),
        ("cql2-text", "name LIKE 'x\x00%'"),
        ("cql2-json", '{"op": "=", "args": [{"property": "name"}, "x\\u0000"]}'),
    ],
)
def test_nul_in_a_cql2_literal_is_400(world, lang, text):
    res = world.client.get(
        f"/collections/sites/items?filter-lang={lang}&filter={quote(text, safe='')}"
    )
    problem(res, 400, "filter")


def test_nul_in_edited_values_and_names_is_400(world):
    client, editor = world.client, world.editor
    headers = {**editor, "If-Match": world.etag("edits", 3)}
    for props in ({"name": "a\x00b"}, {"na\x00me": "x"}):
        body = orjson.dumps({"properties": props})
        problem(client.patch("/collections/edits/items/3", headers=headers, content=body), 400)
        feature = orjson.dumps(point(5, **props))
        problem(client.put("/collections/edits/items/3", headers=headers, content=feature), 400)
        problem(client.post("/collections/edits/items", headers=editor, content=feature), 400)
    assert client.get("/collections/edits/items/3").json()["properties"]["name"] == "gamma"


NUL_FILES = {
    "value": collection_of(point(1, name="fine"), point(2, name="bad\x00value")),
    "name": collection_of(point(1, **{"nul\x00name": "x"})),
}


def _rejected(res, what: str) -> None:
    body = problem(res, 400)
    assert "U+0000" in body["detail"], body
    if what == "value":
        assert "'name'" in body["detail"] and "row 2" in body["detail"], body
    else:
        assert "nul" in body["detail"], body


@pytest.mark.parametrize("what", ["value", "name"])
def test_uploads_with_nul_are_refused_and_store_nothing(world, what):
    client, editor = world.client, world.editor
    cid = f"nul-{what}"
    files = {"file": ("nul.geojson", NUL_FILES[what])}
    res = client.post("/collections", headers=editor, data={"id": cid}, files=files)
    _rejected(res, what)
    assert client.get(f"/collections/{cid}", headers=editor).status_code == 404
    for method in ("PUT", "POST"):
        res = client.request(method, "/collections/sites/data", headers=editor, files=files)
        _rejected(res, what)
    assert world.ids("sites") == [1, 2, 3]


@pytest.mark.parametrize("field", ["title", "title_ar", "description", "keywords", "license"])
def test_upload_metadata_with_nul_is_400(world, field):
    files = {"file": ("ok.geojson", collection_of(point(1, name="fine")))}
    data = {"id": f"nul-{field}", field: "a\x00b"}
    res = world.client.post("/collections", headers=world.editor, data=data, files=files)
    problem(res, 400, field)
    assert world.client.get(f"/collections/nul-{field}", headers=world.editor).status_code == 404


@pytest.mark.parametrize("what", ["value", "name"])
def test_cli_import_with_nul_is_refused(world, what, tmp_path: Path):
    path = tmp_path / "nul.geojson"
    path.write_bytes(NUL_FILES[what])
    done = run_cli(world.settings, "import", str(path), "--collection", "nul-cli")
    assert done.returncode == 2, done.stderr
    assert "U+0000" in done.stderr
    assert world.client.get("/collections/nul-cli").status_code == 404


def test_geoparquet_with_nul_is_refused(world, tmp_path: Path):
    """GeoParquet is read by Arrow, which keeps NULs: the column check finds them."""
    frame = gpd.GeoDataFrame(
        {"name": ["fine", "also fine", "bad\x00value"]},
        geometry=[shapely.Point(55.4, 25.3)] * 3,
        crs="EPSG:4326",
    )
    path = tmp_path / "nul.parquet"
    frame.to_parquet(path)
    with pytest.raises(IngestError, match=r"row 3: property 'name' holds U\+0000"):
        import_file(world.store, path, IngestOptions(collection_id="nul-parquet"))
    assert world.client.get("/collections/nul-parquet").status_code == 404


# -- 4: very long strings --------------------------------------------------------------

LONG = "x" * 10_000_000


def test_a_10mb_string_through_post_and_patch(world):
    client, editor = world.client, world.editor
    created = point(7, name=LONG, capacity=70)
    res = client.post("/collections/edits/items", headers=editor, content=orjson.dumps(created))
    assert res.status_code == 201, res.text
    fid = int(res.headers["location"].rsplit("/", 1)[1])
    assert client.get(f"/collections/edits/items/{fid}").json()["properties"]["name"] == LONG
    other = "y" + LONG[1:]
    headers = {**editor, "If-Match": world.etag("edits", fid)}
    body = orjson.dumps({"properties": {"name": other}})
    res = client.patch(f"/collections/edits/items/{fid}", headers=headers, content=body)
    assert res.status_code == 200, res.text
    assert client.get(f"/collections/edits/items/{fid}").json()["properties"]["name"] == other
    assert world.ids("edits", capacity="70") == [fid]
    assert world.ids("edits", name="alpha") == [1]
    headers = {**editor, "If-Match": world.etag("edits", fid)}
    assert client.delete(f"/collections/edits/items/{fid}", headers=headers).status_code == 204


def test_uploads_with_long_values(world, tmp_path: Path):
    huge = "long " * 600_000  # 3 MB, a thousand times PostgreSQL's B-tree row limit
    long = "ل" * 4_000  # 8 kB of UTF-8 (24 kB in a URL)
    near = "s" * 2700  # about the limit
    path = tmp_path / "long.geojson"
    path.write_bytes(
        collection_of(
            point(1, name=huge), point(2, name=long), point(3, name=near), point(4, name="a")
        )
    )
    files = {"file": ("long.geojson", path.read_bytes())}
    res = world.client.post("/collections", headers=world.editor, data={"id": "long"}, files=files)
    assert res.status_code == 201, res.text
    for fid, value in enumerate((huge, long, near, "a"), start=1):
        got = world.client.get("/collections/long/items/" + str(fid), headers=world.editor)
        assert got.json()["properties"]["name"] == value
    for fid, value in ((2, long), (3, near), (4, "a"), (None, long[:-1]), (None, near + "s")):
        res = world.client.get(
            "/collections/long/items", params={"name": value}, headers=world.editor
        )
        doc = res.json()
        assert [f["id"] for f in doc["features"]] == ([fid] if fid else []), value[:10]
        assert doc["numberMatched"] == (1 if fid else 0)


# -- 5: datetime and features without a time -------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("2022-01-01/2022-12-31", [1]),
        ("2022-06-01", [1]),
        ("../2020-01-01", [3]),
        ("2019-01-01/..", [1, 3]),
    ],
)
def test_features_without_a_time_do_not_match(world, interval, expected):
    assert world.ids("sites", datetime=interval) == expected


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("2022-01-01/2022-12-31", [2]),  # only the ongoing one
        ("2020-01-01/2020-12-31", [2, 3]),
        ("../2018-12-31", [3]),  # no start: open towards the past
        ("2018-06-01", [3]),
        ("2021-06-01/..", [1, 2]),
    ],
)
def test_a_missing_end_of_a_feature_is_open(world, interval, expected):
    assert world.ids("spans", datetime=interval) == expected


def _plan(world: World, cid: str, query: FeatureQuery) -> str:
    """The engine's plan for counting the query's features (what numberMatched runs)."""
    store, info = world.store, world.store.get_collection(cid)
    if isinstance(store, PostgisStore):
        with store.pool.connection() as conn:
            table, info = store.lookup(conn, cid)
            where = build_where(info, query, PgDialect(info))
            conn.execute("SET enable_seqscan = off")  # a tiny table: ask what could be used
            sql = f"EXPLAIN SELECT count(*) FROM {table} WHERE {where.sql()}"
            plan = "\n".join(r[0] for r in conn.execute(sql, where.params))
            conn.execute("RESET enable_seqscan")
            return plan
    with sqlite3.connect(store.path(cid)) as conn:
        (table,) = conn.execute("SELECT table_name FROM gpkg_contents").fetchone()
        layout = Layout.for_properties(table, info.properties)
        where = build_where(info, query, GpkgDialect(layout))
        sql = f"EXPLAIN QUERY PLAN SELECT count(*) FROM {quote_name(table)} WHERE {where.sql()}"
        return "\n".join(str(r[-1]) for r in conn.execute(sql, where.params))


def test_text_equality_reads_an_index_however_long_the_value(world, tmp_path: Path):
    long = "ل" * 5000
    path = tmp_path / "indexed.geojson"
    path.write_bytes(collection_of(point(1, name=long), point(2, name="a"), point(3, name="b")))
    import_file(world.store, path, IngestOptions(collection_id="indexed"))
    info = world.store.get_collection("indexed")
    for value, expected in (("a", [2]), (long, [1])):
        assert world.ids("indexed", name=value) == expected
        plan = _plan(world, "indexed", FeatureQuery(equals={"name": value}))
        assert "Index" in plan or "USING COVERING INDEX" in plan or "USING INDEX" in plan, plan
        assert "Seq Scan" not in plan and "SCAN " not in plan.replace("SCAN TABLE", "SCAN "), plan
        cql = parse_filter(f"name IN ('{value}', '{value}z')", None, None, info)
        plan = _plan(world, "indexed", FeatureQuery(filter=cql))
        assert "Seq Scan" not in plan, plan
        assert world.ids("indexed", filter=f"name = '{value}'") == expected
