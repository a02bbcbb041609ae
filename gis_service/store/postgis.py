"""PostGIS store: stateless API workers over one database, work pushed down to SQL.

Each collection is one table of typed columns (`p0`, `p1`, ... so any property name, in any
script or length, fits) with a GiST index; a catalog table maps collection ids to tables.
A replace writes a new table and swaps the catalog row in one transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import psycopg
import shapely
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from ..domain.access import AccessPolicy
from ..domain.collection import CollectionInfo, PropertyDef, PropertyType
from ..domain.query import BBox, FeatureQuery
from ..domain.values import output_value
from ..errors import CollectionNotFound, StoreError, VersionNotFound
from . import pg_stream
from .base import (
    Actor,
    Changes,
    CollectionWriter,
    Feature,
    FeatureBatch,
    FeaturePage,
    Store,
    classify,
)
from .catalog import Catalog
from .counts import CountCache
from .indexing import indexed
from .paging import check_filters, run_page
from .pg_filters import CASTS, PgFilterDialect, translate_error
from .pg_generations import Generations
from .rows import SqlRows
from .sql import build_where, quote
from .streaming import FeatureStream

T = TypeVar("T")


def _column(index: int) -> str:
    return f"p{index}"


class PgDialect(PgFilterDialect):
    placeholder = "%s"
    fid = '"fid"'

    def __init__(self, info: CollectionInfo) -> None:
        self.index = {p.name: i for i, p in enumerate(info.properties)}

    def column(self, collection: CollectionInfo, name: str) -> str:
        return quote(_column(self.index[name]))

    def sort_column(self, collection: CollectionInfo, name: str) -> str:
        """Text orders by code point, as SQLite's BINARY collation does."""
        column = self.column(collection, name)
        prop = collection.prop(name)
        return f'{column} COLLATE "C"' if prop and prop.type is PropertyType.STRING else column

    def bind(self, value: Any, kind: PropertyType) -> Any:
        return value

    def bbox_condition(self, bbox: BBox, collection: CollectionInfo) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for part in bbox.parts():
            # box2d -> geometry gives a point or line for a degenerate box, which (unlike
            # ST_MakeEnvelope's empty-area polygon) intersects what it touches.
            clauses.append(
                'ST_Intersects("geom", ST_SetSRID(ST_MakeBox2D(ST_MakePoint(%s, %s),'
                " ST_MakePoint(%s, %s))::geometry, 4326))"
            )
            params += list(part)
        if collection.has_null_geometry:  # answered by the partial index on null geometry
            clauses.append('"geom" IS NULL')
        return " OR ".join(clauses), params


class PgRows(SqlRows):
    """Rows of one collection table on one borrowed connection; typed values from psycopg."""

    def __init__(self, conn: psycopg.Connection, table: str, info: CollectionInfo) -> None:
        cols = ['"fid"', 'ST_AsBinary("geom")'] + [
            quote(_column(i)) for i in range(len(info.properties))
        ]
        super().__init__(conn, table=table, fid='"fid"', columns=", ".join(cols), placeholder="%s")
        self.kinds = [(p.name, p.type) for p in info.properties]

    def feature(self, row: tuple[Any, ...]) -> Feature:
        props = {
            name: output_value(value, kind)
            for (name, kind), value in zip(self.kinds, row[2:], strict=True)
        }
        wkb = bytes(row[1]) if row[1] is not None else None
        return Feature(fid=row[0], wkb=wkb, properties=props)


class PostgisStore(Store):
    def __init__(
        self,
        url: str,
        *,
        schema: str = "gis",
        pool_size: int = 4,
        statement_timeout_ms: int = 30_000,
        count_cap: int = 100_000,
    ) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreError(f"schema name {schema!r} is not allowed")
        self.schema = schema
        self.count_cap = count_cap
        self.statement_timeout_ms = statement_timeout_ms
        self.concurrency = pool_size
        self.counts = CountCache()
        self.generations = Generations()
        self.collections_table = f"{quote(schema)}.collections"
        options = f"-c statement_timeout={statement_timeout_ms}" if statement_timeout_ms else ""
        try:
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                open=True,
                timeout=30,
                kwargs={"autocommit": True, "options": options},
            )
            self.pool.wait(timeout=30)
            with self.pool.connection() as conn:
                self._bootstrap(conn)
            self.catalog = Catalog(self.pool.connection, "%s", prefix=f"{quote(schema)}.")
        except (psycopg.Error, Exception) as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the PostGIS store: {exc}") from exc

    def _bootstrap(self, conn: psycopg.Connection) -> None:
        """Refuse a superuser; use the schema an administrator made for this role.

        The service needs nothing beyond its own schema; as a superuser any bug or stolen
        connection would reach every database on the server.
        """
        (superuser,) = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if superuser:
            raise StoreError(
                "the PostGIS store must not connect as a superuser: connect with a role that"
                f" owns only schema {self.schema!r} (see README, 'Switching to PostGIS')"
            )
        has_postgis = conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
        ).fetchone()
        if not has_postgis:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as exc:
                raise StoreError(
                    "PostGIS is not installed in this database and this role may not create it"
                    f" ({exc.diag.message_primary})"
                ) from exc
        owner = conn.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
            (self.schema,),
        ).fetchone()
        if owner is None:
            try:
                conn.execute(f"CREATE SCHEMA {quote(self.schema)}")
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreError(
                    f"schema {self.schema!r} does not exist and this role may not create it;"
                    f" an administrator runs: CREATE SCHEMA {self.schema} AUTHORIZATION <role>"
                ) from exc
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.collections_table} ("
            " id text PRIMARY KEY, table_name text NOT NULL, info jsonb NOT NULL)"
        )

    def _lookup(
        self, conn: psycopg.Connection, collection_id: str, version: int | None = None
    ) -> tuple[str, CollectionInfo]:
        if version is not None:
            found = conn.execute(
                f"SELECT location, info FROM {quote(self.schema)}.versions"
                " WHERE collection = %s AND version = %s",
                (collection_id, version),
            ).fetchone()
            if found is None:
                self._lookup(conn, collection_id)  # 404 for the collection itself first
                raise VersionNotFound(collection_id, version)
            info = CollectionInfo.model_validate_json(found[1])
            return f"{quote(self.schema)}.{quote(found[0])}", info
        row = conn.execute(
            f"SELECT table_name, info::text FROM {self.collections_table} WHERE id = %s",
            (collection_id,),
        ).fetchone()
        if row is None:
            raise CollectionNotFound(collection_id)
        table = f"{quote(self.schema)}.{quote(row[0])}"
        return table, self.generations.info(table, row[1])

    def resolve(self, collection_id: str) -> tuple[CollectionInfo, AccessPolicy]:
        """The collection and its policy in one statement (every request asks both)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT c.table_name, c.info::text, a.policy FROM {self.collections_table} c"
                f" LEFT JOIN {quote(self.schema)}.access a ON a.collection = c.id"
                " WHERE c.id = %s",
                (collection_id,),
            ).fetchone()
        if row is None:
            raise CollectionNotFound(collection_id)
        table = f"{quote(self.schema)}.{quote(row[0])}"
        return self.generations.info(table, row[1]), self.generations.policy(row[2])

    def list_collections(self) -> list[CollectionInfo]:
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT info FROM {self.collections_table} ORDER BY id").fetchall()
        return [CollectionInfo.model_validate(r[0]) for r in rows]

    def get_collection(self, collection_id: str) -> CollectionInfo:
        with self.pool.connection() as conn:
            return self._lookup(conn, collection_id)[1]

    def _read(
        self,
        collection_id: str,
        work: Callable[[PgRows, CollectionInfo], T],
        version: int | None = None,
        known: CollectionInfo | None = None,
    ) -> T:
        """Run `work` on the collection's current table.

        A commit swaps the catalog row to a new table (old ones stay, as versions); only a
        deleted collection's tables go away, and a read that looked one up just before gets
        UndefinedTable and simply looks again (then answers 404). When `known` (the info
        this request resolved) names its table, the work starts there at once and the
        catalog is asked in the same round trip whether that table is still current.
        """
        table = self.generations.table_of(known) if known and version is None else None
        with self.pool.connection() as conn:
            if table is not None and known is not None:
                failure: Exception | None = None
                try:
                    with conn.pipeline():
                        check = conn.execute(
                            f"SELECT table_name FROM {self.collections_table} WHERE id = %s",
                            (collection_id,),
                        )
                        try:
                            result = work(self._rows(conn, table, known), known)
                        except psycopg.Error:
                            raise
                        except Exception as exc:  # e.g. FeatureNotFound: only if still current
                            failure = exc
                        current = check.fetchone()
                except psycopg.errors.UndefinedTable:
                    current = None  # deleted meanwhile: ask the catalog below
                if current is not None and f"{quote(self.schema)}.{quote(current[0])}" == table:
                    if failure is not None:
                        raise failure
                    return result
            for attempt in range(3):
                table, info = self._lookup(conn, collection_id, version)
                try:
                    return work(self._rows(conn, table, info), info)
                except psycopg.errors.UndefinedTable:
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _rows(self, conn: psycopg.Connection, table: str, info: CollectionInfo) -> PgRows:
        rows = PgRows(conn, table, info)
        rows.generation = table  # each generation is a table of its own, never rewritten
        return rows

    def query_features(self, *, collection: CollectionInfo, query: FeatureQuery) -> FeaturePage:
        def page(rows: PgRows, info: CollectionInfo) -> FeaturePage:
            check_filters(info, query)
            dialect = PgDialect(info)
            where = build_where(info, query, dialect)
            return run_page(rows, info, query, where, self.count_cap, dialect, self.counts)

        try:
            return self._read(collection.id, page, query.version, collection)
        except psycopg.Error as exc:
            problem = translate_error(exc, self.statement_timeout_ms)
            if problem is None:
                raise
            raise problem from exc

    def get_feature(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        return self._read(
            collection.id, lambda rows, _info: rows.by_id(fid, collection.id), version, collection
        )

    def open_stream(
        self, *, collection: CollectionInfo, query: FeatureQuery, limit: int | None = None
    ) -> FeatureStream:
        return pg_stream.open_stream(self, collection, query, limit)

    def _writer(
        self,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool,
        from_version: int | None,
    ) -> CollectionWriter:
        writer = _PgWriter(self, collection_id, properties)
        if keep_existing:
            try:
                writer.copy_current(from_version)
            except BaseException:
                writer.abort()
                raise
        return writer

    def changes(self, *, collection_id: str, since: int) -> Changes:
        with self.pool.connection() as conn:
            table, info = self._lookup(conn, collection_id)
            old_table, old = self._lookup(conn, collection_id, since)
            new_ids = {r[0] for r in conn.execute(f'SELECT "fid" FROM {table}')}
            old_ids = {r[0] for r in conn.execute(f'SELECT "fid" FROM {old_table}')}
            if old.properties == info.properties:
                columns = ['"geom"'] + [quote(_column(i)) for i in range(len(info.properties))]
                differs = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in columns)
                differing = {
                    r[0]
                    for r in conn.execute(
                        f'SELECT n."fid" FROM {table} n JOIN {old_table} o ON o."fid" = n."fid"'
                        f" WHERE {differs}"
                    )
                }
            else:  # a new schema: every kept feature counts as updated
                differing = new_ids & old_ids
            inserted, updated, deleted = classify(old_ids, new_ids, differing)
            rows = PgRows(conn, table, info)
            return Changes(
                since=since,
                version=info.version,
                inserted=rows.by_ids(inserted),
                updated=rows.by_ids(updated),
                deleted=deleted,
            )

    def delete_collection(self, *, collection_id: str) -> None:
        with self.pool.connection() as conn, conn.transaction():
            table, _info = self._lookup(conn, collection_id)
            conn.execute(f"DELETE FROM {self.collections_table} WHERE id = %s", (collection_id,))
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            for record in self.catalog.versions(collection_id):
                conn.execute(f"DROP TABLE IF EXISTS {quote(self.schema)}.{quote(record.location)}")
        self.catalog.forget_access(collection_id)
        self.catalog.forget_versions(collection_id)

    def close(self) -> None:
        self.pool.close()


class _PgWriter(CollectionWriter):
    """Holds one connection and one transaction from the first row to the swap."""

    def __init__(self, store: PostgisStore, collection_id: str, properties: list[PropertyDef]):
        self.store = store
        self.collection_id = collection_id
        slug = re.sub(r"[^a-z0-9_]", "_", collection_id.lower())[:40]
        self.table_name = f"f_{slug}_{uuid.uuid4().hex[:8]}"
        self.table = f"{quote(store.schema)}.{quote(self.table_name)}"
        self.properties = properties
        self._conn_cm = store.pool.connection()
        self.conn = self._conn_cm.__enter__()
        self.conn.autocommit = False
        self.conn.execute("SET LOCAL statement_timeout = 0")
        self.conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index builds sort in memory
        # one writer per collection at a time (held to commit): appends copy the current rows
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"{store.schema}.{collection_id}",),
        )
        cols = ", ".join(f"{quote(_column(i))} {CASTS[p.type]}" for i, p in enumerate(properties))
        self.conn.execute(
            f'CREATE TABLE {self.table} ("fid" bigint PRIMARY KEY,'
            f' "geom" geometry CHECK (ST_SRID("geom") = 4326){", " if cols else ""}{cols})'
        )
        names = ", ".join(['"fid"', '"geom"'] + [quote(_column(i)) for i in range(len(properties))])
        self.copy_sql = f"COPY {self.table} ({names}) FROM STDIN"

    def copy_current(self, version: int | None = None) -> None:
        """Start from the current generation's rows, or a version's (same positional columns)."""
        old, self.previous = self.store._lookup(self.conn, self.collection_id, version)
        self.conn.execute(f"INSERT INTO {self.table} SELECT * FROM {old}")
        (top,) = self.conn.execute(f'SELECT max("fid") FROM {self.table}').fetchone()
        self.next_fid = (top or 0) + 1

    def delete(self, fids: list[int]) -> None:
        self.conn.execute(f'DELETE FROM {self.table} WHERE "fid" = ANY(%s)', (fids,))

    def write(self, batch: FeatureBatch) -> None:
        if self.previous is not None:  # editing a copy: a row given again replaces the old one
            self.delete(batch.fids.tolist())
        geoms = shapely.set_srid(batch.geometries, 4326)
        hexes = shapely.to_wkb(geoms, hex=True, include_srid=True, flavor="extended")
        columns = [batch.columns[p.name] for p in self.properties]
        with self.conn.cursor().copy(self.copy_sql) as copy:
            for row in zip(batch.fids.tolist(), hexes, *columns, strict=True):
                copy.write_row(row)

    def commit(self, info: CollectionInfo) -> None:
        conn = self.conn
        try:
            index = quote(f"{self.table_name}_geom")
            conn.execute(f'CREATE INDEX {index} ON {self.table} USING gist ("geom")')
            # Rows near each other on the map become neighbours on disk: a bbox page then
            # reads a few heap pages instead of one per feature.
            conn.execute(f"CLUSTER {self.table} USING {index}")
            if info.has_null_geometry:
                conn.execute(f'CREATE INDEX ON {self.table} ("fid") WHERE "geom" IS NULL')
            for position, _prop in indexed(self.properties):  # a value's rows in fid order
                column = quote(_column(position))
                conn.execute(f'CREATE INDEX ON {self.table} ({column}, "fid")')
            conn.execute(f"ANALYZE {self.table}")
            versions = f"{quote(self.store.schema)}.versions"
            (latest,) = conn.execute(
                f"SELECT coalesce(max(version), 0) FROM {versions} WHERE collection = %s",
                (self.collection_id,),
            ).fetchone()
            info = info.model_copy(update={"version": latest + 1})
            actor = self.actor or Actor(operation="write")
            # the old table stays: it is the previous version, still readable
            conn.execute(
                f"INSERT INTO {versions} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    self.collection_id,
                    latest + 1,
                    datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    actor.entity,
                    actor.key_id,
                    actor.operation,
                    info.feature_count,
                    self.table_name,
                    info.model_dump_json(),
                    orjson.dumps(self.report).decode() if self.report else None,
                ),
            )
            conn.execute(
                f"INSERT INTO {self.store.collections_table} (id, table_name, info)"
                " VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET table_name = EXCLUDED.table_name,"
                " info = EXCLUDED.info",
                (self.collection_id, self.table_name, Jsonb(orjson.loads(info.model_dump_json()))),
            )
            conn.commit()
        except BaseException:
            self.abort()
            raise
        self._release()

    def abort(self) -> None:
        if self._conn_cm is None:
            return  # already committed or aborted
        try:
            self.conn.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        if self._conn_cm is not None:
            self.conn.autocommit = True
            self._conn_cm.__exit__(None, None, None)
            self._conn_cm = None
