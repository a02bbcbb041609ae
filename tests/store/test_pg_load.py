"""The PostGIS bulk load: COPY text built by columns, and the published table's layout."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import numpy as np
import orjson
import psycopg
import pytest
import shapely

from gis_service.domain.collection import CollectionInfo, PropertyDef, PropertyType
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import FeatureBatch
from gis_service.store.factory import open_store
from gis_service.store.indexing import SHORT_TEXT_BYTES
from gis_service.store.postgis.copy_text import copy_text, hex_wkb
from gis_service.store.postgis.filters import CASTS

T = PropertyType
PROPS = [
    PropertyDef(name="s", type=T.STRING),
    PropertyDef(name="i", type=T.INTEGER),
    PropertyDef(name="x", type=T.NUMBER),
    PropertyDef(name="b", type=T.BOOLEAN),
    PropertyDef(name="d", type=T.DATE),
    PropertyDef(name="t", type=T.DATETIME),
]
ROWS = [
    ("tab\there", 0, 0.1, True, "2024-02-29", "2024-02-29T23:59:59.125Z"),
    ("new\nline\r\nand \\N back\\slash", -(2**63), -0.0, False, None, None),
    ("\\", 2**63 - 1, 1e-7, None, "0001-01-01", "1970-01-01T00:00:00Z"),
    ("مسجد القاسمية 🕌", None, float("inf"), True, None, None),
    ("", 7, float("nan"), None, None, None),
    (None, 42, 5e-324, None, None, None),
    ("\\t is not a tab", 1, 1.7976931348623157e308, None, None, None),
    ("plain", 2, 123456789.12345679, None, None, None),
]
GEOMETRIES = [
    shapely.Point(55.3, 25.1),
    None,
    shapely.Point(1, 2, 3),
    shapely.from_wkt("POINT EMPTY"),
    shapely.from_wkt("LINESTRING (0 0, 1 1)"),
    shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.05, 0.9 0.05, 0.9 0.8, 0.1 0.05))"),
    shapely.from_wkt("MULTIPOINT Z ((0 0 1), (1 1 2))"),
    shapely.from_wkt("GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 2 2))"),
]


def test_hex_wkb_is_the_bytes_geos_writes():
    points = shapely.points(np.random.default_rng(3).uniform(-180, 180, (500, 2)))
    for geoms in (points, np.array(GEOMETRIES, dtype=object)):
        assert hex_wkb(geoms).to_pylist() == list(shapely.to_wkb(geoms, hex=True))


def _load(conn: psycopg.Connection, table: str, rows: list[tuple], text: bytes | None) -> list:
    cols = ", ".join(f"c{i} {CASTS[p.type]}" for i, p in enumerate(PROPS))
    conn.execute(f"CREATE TEMP TABLE {table} (fid bigint, geom geometry, {cols})")
    with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        if text is None:  # the reference: psycopg formats each value
            for row in rows:
                copy.write_row(row)
        else:
            copy.write(text)
    return conn.execute(
        f"SELECT fid, encode(ST_AsEWKB(geom), 'hex'), {', '.join(f'c{i}' for i in range(6))}"
        f" FROM {table} ORDER BY fid"
    ).fetchall()


def _same(a: list, b: list) -> bool:
    nan = [isinstance(v, float) and math.isnan(v) for row in a for v in row]
    flat_a = [v for row in a for v in row]
    flat_b = [v for row in b for v in row]
    return all(
        (isnan and isinstance(w, float) and math.isnan(w)) or (v == w and str(v) == str(w))
        for v, w, isnan in zip(flat_a, flat_b, nan, strict=True)
    )


def test_copy_text_loads_what_row_by_row_copy_loads(postgis_url: str):
    fids = np.arange(1, len(ROWS) + 1, dtype=np.int64)
    geoms = np.array(GEOMETRIES, dtype=object)
    columns = [list(c) for c in zip(*ROWS, strict=True)]
    text = copy_text(fids, geoms, columns, PROPS)
    assert text is not None
    reference = [
        (int(f), shapely.to_wkb(g, hex=True) if g is not None else None, *r)
        for f, g, r in zip(fids, geoms, ROWS, strict=True)
    ]
    with psycopg.connect(postgis_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        ours = _load(conn, "by_columns", [], bytes(text))
        theirs = _load(conn, "by_rows", reference, None)
    assert len(ours) == len(ROWS)
    assert _same(ours, theirs)
    assert ours[1][2] == ROWS[1][0] and ours[3][2] == ROWS[3][0]  # escapes undone exactly


def test_copy_text_declines_values_outside_arrow_types():
    props = [PropertyDef(name="i", type=T.INTEGER)]
    geoms = np.array([None], dtype=object)
    assert copy_text(np.array([1]), geoms, [[2**64]], props) is None
    assert copy_text(np.array([1]), geoms, [[7]], props) is not None
    empty = np.array([], dtype=object)
    assert bytes(copy_text(np.array([], dtype=np.int64), empty, [[]], props)) == b""


def test_rows_arrow_declines_are_written_one_by_one(pg_settings: Settings):
    """A double column given an integer no double holds exactly: PostgreSQL rounds it,
    as it did when every row went through psycopg."""
    props = [PropertyDef(name="x", type=T.NUMBER)]
    store = open_store(pg_settings)
    try:
        with store.replace_collection(collection_id="wide", properties=props) as writer:
            batch = FeatureBatch(
                fids=np.array([1, 2], dtype=np.int64),
                geometries=np.array([shapely.Point(1, 2), None], dtype=object),
                columns={"x": [2**53 + 1, 0.5]},
            )
            writer.write(batch)
            writer.commit(CollectionInfo(id="wide", title="wide", properties=props))
    finally:
        store.close()
    with psycopg.connect(pg_settings.store) as conn:
        rows = conn.execute(
            f"SELECT fid, ST_AsEWKT(geom), p0 FROM {_table(conn, pg_settings, 'wide')} ORDER BY fid"
        ).fetchall()
    assert rows == [(1, "SRID=4326;POINT(1 2)", float(2**53)), (2, None, 0.5)]


def _table(conn: psycopg.Connection, settings: Settings, collection_id: str) -> str:
    schema = settings.postgis_schema
    (table,) = conn.execute(
        f"SELECT table_name FROM {schema}.collections WHERE id = %s", (collection_id,)
    ).fetchone()
    return f'{schema}."{table}"'


@pytest.fixture
def pg_settings(postgis_url: str) -> Settings:
    return Settings(store=postgis_url, postgis_schema=f"t_{uuid.uuid4().hex[:12]}")


def test_published_table_is_in_spatial_order_with_its_indexes(
    pg_settings: Settings, tmp_path: Path
):
    rng = np.random.default_rng(7)
    n = 3000
    xy = rng.uniform([55.3, 24.9], [56.4, 25.6], (n, 2)).round(6)
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"n{i}", "kind": "abc"[i % 3], "size": i % 17, "w": i / 7},
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
        }
        for i, (x, y) in enumerate(xy)
    ]
    path = tmp_path / "pts.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    store = open_store(pg_settings)
    try:
        import_file(store, path, IngestOptions(collection_id="pts"))
        import_file(store, path, IngestOptions(collection_id="pts", append=True))
    finally:
        store.close()
    schema = pg_settings.postgis_schema
    with psycopg.connect(pg_settings.store) as conn:
        qualified = _table(conn, pg_settings, "pts")
        table = qualified.split(".", 1)[1].strip('"')
        points = f"SELECT ST_X(geom), ST_Y(geom) FROM {qualified} ORDER BY"
        on_disk = conn.execute(f"{points} ctid").fetchall()  # the append repeats each point
        spatial = conn.execute(f"{points} geom").fetchall()
        assert len(on_disk) == 2 * n and on_disk == spatial
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes"
                " WHERE schemaname = %s AND tablename = %s",
                (schema, table),
            )
        }
        assert indexes == {
            "btree (fid)",
            "gist (geom)",
            # text: a B-tree over values up to SHORT_TEXT_BYTES, a hash index for longer ones
            *(
                f"{kind} WHERE (octet_length({c}) {op} {SHORT_TEXT_BYTES})"
                for c in ("p0", "p1")
                for kind, op in (
                    (f"btree ({c}, fid) WITH (deduplicate_items=off)", "<="),
                    (f"hash ({c})", ">"),
                )
            ),
            "btree (p2, fid) WITH (deduplicate_items=off)",  # an integer: one B-tree
        }
        (primary,) = conn.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND indisprimary",
            (qualified,),
        ).fetchone()
        assert primary == 1
        (srids,) = conn.execute(
            f"SELECT array_agg(DISTINCT ST_SRID(geom)) FROM {qualified}"
        ).fetchone()
        assert srids == [4326]
