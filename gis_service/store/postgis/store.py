"""PostGIS store: stateless API workers over one database, work pushed down to SQL.

Each collection is one table of typed columns (`p0`, `p1`, ... so any property name, in any
script or length, fits) with a GiST index; a catalog table maps collection ids to tables.
A replace writes a new table and swaps the catalog row in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from ...domain.access import AccessPolicy
from ...domain.collection import CollectionInfo, PropertyDef, valid_collection_id
from ...domain.query import FeatureQuery
from ...errors import CollectionNotFound, StoreError, VersionGone, VersionNotFound
from ..base import (
    Changes,
    CollectionWriter,
    Feature,
    FeatureBoxes,
    FeaturePage,
    Store,
    classify,
)
from ..catalog import Catalog
from ..counts import CountCache
from ..paging import check_filters, run_page
from ..rows import Plan, run
from ..sql import quote
from ..streaming import FeatureStream
from ..turns import Turns
from ..where import build_where
from . import boxes, retention, stream
from .async_pool import AsyncPool
from .bootstrap import bootstrap
from .filters import translate_error
from .generations import Generations
from .pool import StorePool
from .query import PgDialect, PgRows, column_name
from .writer import PgWriter

T = TypeVar("T")


class PostgisStore(Store):
    def __init__(
        self,
        url: str,
        *,
        schema: str = "gis",
        pool_size: int = 4,
        statement_timeout_ms: int = 30_000,
        count_cap: int = 100_000,
        connect_timeout_s: float = 3.0,
    ) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreError(f"schema name {schema!r} is not allowed")
        self.schema = schema
        self.count_cap = count_cap
        self.statement_timeout_ms = statement_timeout_ms
        self.concurrency = pool_size
        self.counts = CountCache()
        self.turns = Turns()  # writers of a collection in this process queue here
        self.generations = Generations()
        self.collections_table = f"{quote(schema)}.collections"
        self._current_sql = f"SELECT table_name FROM {self.collections_table} WHERE id = %s"
        # Requests are many and short on shared cores: a parallel plan's worker start-up
        # (~10 ms) and JIT compilation (tens to hundreds of ms, for any plan the optimizer
        # thinks costly, such as a count over a large layer) each cost more than they save.
        settings = {"max_parallel_workers_per_gather": "0", "jit": "off"}
        if statement_timeout_ms:
            settings["statement_timeout"] = str(statement_timeout_ms)
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        try:
            kwargs = {"autocommit": True, "options": options}
            self.pool = StorePool(url, size=pool_size, wait=connect_timeout_s, kwargs=kwargs)
            self.pool.wait(timeout=30)
            with self.pool.connection() as conn:
                bootstrap(conn, self.schema, self.collections_table)
            self.catalog = Catalog(self.pool.connection, "%s", prefix=f"{quote(schema)}.")
            reach, wait = self.pool.reach, connect_timeout_s
            self.aio = AsyncPool(url, size=pool_size, settings=settings, timeout=wait, reach=reach)
        except (psycopg.Error, Exception) as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the PostGIS store: {exc}") from exc

    def _lookup_plan(
        self, collection_id: str, version: int | None = None
    ) -> Plan[tuple[str, CollectionInfo]]:
        """(table, info) of the collection's current generation, or of one of its versions."""
        if not valid_collection_id(collection_id):  # as on GeoPackage; and text holds no NUL
            raise CollectionNotFound(collection_id)
        if version is not None:
            found = yield (
                f"SELECT v.location, v.info, l.pruned FROM {quote(self.schema)}.versions v"
                f" LEFT JOIN {quote(self.schema)}.version_leases l"
                " ON l.collection = v.collection AND l.version = v.version"
                " WHERE v.collection = %s AND v.version = %s",
                [collection_id, version],
            )
            if not found:
                yield from self._lookup_plan(collection_id)  # 404 for the collection first
                raise VersionNotFound(collection_id, version)
            if found[0][2] is not None:
                raise VersionGone(collection_id, version)
            info = CollectionInfo.model_validate_json(found[0][1])
            return f"{quote(self.schema)}.{quote(found[0][0])}", info
        rows = yield (
            f"SELECT table_name, info::text FROM {self.collections_table} WHERE id = %s",
            [collection_id],
        )
        if not rows:
            raise CollectionNotFound(collection_id)
        table = f"{quote(self.schema)}.{quote(rows[0][0])}"
        return table, self.generations.info(table, rows[0][1])

    def lookup(
        self, conn: psycopg.Connection, collection_id: str, version: int | None = None
    ) -> tuple[str, CollectionInfo]:
        return run(conn, self._lookup_plan(collection_id, version))

    def _resolve_plan(self, collection_id: str) -> Plan[tuple[CollectionInfo, AccessPolicy]]:
        if not valid_collection_id(collection_id):
            raise CollectionNotFound(collection_id)
        rows = yield (
            f"SELECT c.table_name, c.info::text, a.policy FROM {self.collections_table} c"
            f" LEFT JOIN {quote(self.schema)}.access a ON a.collection = c.id"
            " WHERE c.id = %s",
            [collection_id],
        )
        if not rows:
            return (yield from self._resolve_raster_plan(collection_id))
        name, info, policy = rows[0]
        table = f"{quote(self.schema)}.{quote(name)}"
        return self.generations.info(table, info), self.generations.policy(policy)

    def _resolve_raster_plan(self, collection_id: str) -> Plan[tuple[CollectionInfo, AccessPolicy]]:
        """A raster collection lives in the catalog's `rasters` table, not `collections`."""
        rows = yield (
            f"SELECT r.info, a.policy FROM {quote(self.schema)}.rasters r"
            f" LEFT JOIN {quote(self.schema)}.access a ON a.collection = r.collection"
            " WHERE r.collection = %s",
            [collection_id],
        )
        if not rows:
            raise CollectionNotFound(collection_id)
        info = CollectionInfo.model_validate_json(rows[0][0])
        return info, self.generations.policy(rows[0][1])

    def resolve(self, collection_id: str) -> tuple[CollectionInfo, AccessPolicy]:
        """The collection and its policy in one statement (every request asks both)."""
        with self.pool.connection() as conn:
            return run(conn, self._resolve_plan(collection_id))

    def list_collections(self) -> list[CollectionInfo]:
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT info FROM {self.collections_table} ORDER BY id").fetchall()
        return self.with_rasters([CollectionInfo.model_validate(r[0]) for r in rows])

    def get_collection(self, collection_id: str) -> CollectionInfo:
        try:
            with self.pool.connection() as conn:
                return self.lookup(conn, collection_id)[1]
        except CollectionNotFound:
            raster = self.raster_collection(collection_id)
            if raster is None:
                raise
            return raster

    def _fresh_plan(
        self,
        collection_id: str,
        work: Callable[[PgRows, CollectionInfo], Plan[T]],
        version: int | None = None,
    ) -> Plan[T]:
        """`work` on the table the catalog names now.

        A commit swaps the catalog row to a new table (old ones stay, as versions); only a
        deleted collection's tables go away, and a read that looked one up just before gets
        UndefinedTable and simply looks again (then answers 404).
        """
        for attempt in range(3):
            table, info = yield from self._lookup_plan(collection_id, version)
            try:
                return (yield from work(self._rows(table, info), info))
            except psycopg.errors.UndefinedTable:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _known_table(self, known: CollectionInfo | None, version: int | None) -> str | None:
        """The table the info this request resolved names (the work starts there at once),
        or None for an info parsed elsewhere or another version."""
        if known is None or version not in (None, known.version):
            return None
        return self.generations.table_of(known)

    def _is_current(self, row: tuple[Any, ...] | None, table: str) -> bool:
        return row is not None and f"{quote(self.schema)}.{quote(row[0])}" == table

    def _read(
        self,
        collection_id: str,
        work: Callable[[PgRows, CollectionInfo], Plan[T]],
        version: int | None = None,
        known: CollectionInfo | None = None,
    ) -> T:
        """`work` on the newest generation: started on the known table while the catalog
        is asked in the same round trip (a pipeline) whether it is still current; only
        when another commit won does it start again from the catalog."""
        table = self._known_table(known, version)
        with self.pool.connection() as conn:
            if table is not None and known is not None:
                failure: Exception | None = None
                try:
                    with conn.pipeline():
                        check = conn.execute(self._current_sql, (collection_id,))
                        try:
                            result = run(conn, work(self._rows(table, known), known))
                        except psycopg.Error:
                            raise
                        except Exception as exc:  # e.g. FeatureNotFound: only if still current
                            failure = exc
                        current = check.fetchone()
                except psycopg.errors.UndefinedTable:
                    current = None  # deleted meanwhile: ask the catalog below
                if self._is_current(current, table):
                    if failure is not None:
                        raise failure
                    return result
            return run(conn, self._fresh_plan(collection_id, work, version))

    def _resolved_plan(
        self,
        collection_id: str,
        work: Callable[[PgRows, CollectionInfo], Plan[T]],
        version: int | None = None,
        known: CollectionInfo | None = None,
    ) -> Plan[T]:
        """`work` on the generation this request resolved, without asking again.

        For a GET that is the state the collection was in when the request arrived (a
        commit keeps the replaced table as a version, so it is still there to read); only
        a collection deleted since is looked up again (and answers 404). Writers, which
        must see the newest generation under their lock, use `_read`.
        """
        table = self._known_table(known, version)
        if table is not None and known is not None:
            try:
                return (yield from work(self._rows(table, known), known))
            except psycopg.errors.UndefinedTable:
                pass
        return (yield from self._fresh_plan(collection_id, work, version))

    def _rows(self, table: str, info: CollectionInfo) -> PgRows:
        rows = PgRows(table, info)
        rows.generation = table  # each generation is a table of its own, never rewritten
        return rows

    def _page(self, query: FeatureQuery) -> Callable[[PgRows, CollectionInfo], Plan[FeaturePage]]:
        def page(rows: PgRows, info: CollectionInfo) -> Plan[FeaturePage]:
            check_filters(info, query)
            rows.spatial = query.bbox is not None
            dialect = PgDialect(info)
            where = build_where(info, query, dialect)
            return run_page(rows, info, query, where, self.count_cap, dialect, self.counts)

        return page

    def _translated(self, exc: psycopg.Error) -> Exception | None:
        return translate_error(exc, self.statement_timeout_ms)

    def query_features(self, *, collection: CollectionInfo, query: FeatureQuery) -> FeaturePage:
        try:
            return self._read(collection.id, self._page(query), query.version, collection)
        except psycopg.Error as exc:
            problem = self._translated(exc)
            if problem is None:
                raise
            raise problem from exc

    def get_feature(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        return self._read(
            collection.id, lambda rows, _info: rows.by_id(fid, collection.id), version, collection
        )

    # -- the same reads on the event loop (asyncio connections, no worker threads) --------
    async def open_async(self) -> None:
        await self.aio.open()

    async def close_async(self) -> None:
        await self.aio.close()

    async def ready_async(self) -> None:
        await self.aio.probe()

    async def resolve_async(self, collection_id: str) -> tuple[CollectionInfo, AccessPolicy]:
        return await self.aio.run(self._resolve_plan(collection_id))

    async def query_features_async(
        self, *, collection: CollectionInfo, query: FeatureQuery
    ) -> FeaturePage:
        try:
            plan = self._resolved_plan(collection.id, self._page(query), query.version, collection)
            return await self.aio.run(plan)
        except psycopg.Error as exc:
            problem = self._translated(exc)
            if problem is None:
                raise
            raise problem from exc

    async def get_feature_async(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        def work(rows: PgRows, _info: CollectionInfo) -> Plan[Feature]:
            return rows.by_id(fid, collection.id)

        return await self.aio.run(self._resolved_plan(collection.id, work, version, collection))

    def open_stream(
        self, *, collection: CollectionInfo, query: FeatureQuery, limit: int | None = None
    ) -> FeatureStream:
        return stream.open_stream(self, collection, query, limit)

    def read_selection(self, *, collection: CollectionInfo, query: FeatureQuery) -> list:
        return stream.read_selection(self, collection, query)

    def feature_boxes(self, *, collection: CollectionInfo, version: int | None) -> FeatureBoxes:
        with self.pool.connection() as conn, conn.transaction():
            table, _info = self.lookup(conn, collection.id, version)
            try:
                return boxes.feature_boxes(conn, table)
            except psycopg.errors.UndefinedTable:
                raise CollectionNotFound(collection.id) from None  # deleted after the lookup

    def _writer(
        self,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool,
        from_version: int | None,
        deadline: float | None = None,
    ) -> CollectionWriter:
        writer = PgWriter(self, collection_id, properties, deadline)
        if keep_existing:
            try:
                writer.copy_current(from_version)
            except BaseException:
                writer.abort()
                raise
        return writer

    def changes(self, *, collection_id: str, since: int) -> Changes:
        with self.pool.connection() as conn:
            table, info = self.lookup(conn, collection_id)
            old_table, old = self.lookup(conn, collection_id, since)
            new_ids = {r[0] for r in conn.execute(f'SELECT "fid" FROM {table}')}
            old_ids = {r[0] for r in conn.execute(f'SELECT "fid" FROM {old_table}')}
            if old.properties == info.properties:
                columns = ['"geom"'] + [quote(column_name(i)) for i in range(len(info.properties))]
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
            rows = PgRows(table, info)
            return Changes(
                since=since,
                version=info.version,
                inserted=run(conn, rows.by_ids(inserted)),
                updated=run(conn, rows.by_ids(updated)),
                deleted=deleted,
            )

    # retention: each version is a table of its own (retention.py)
    version_sizes = retention.version_sizes
    drop_version = retention.drop_version

    def delete_collection(self, *, collection_id: str) -> None:
        with self.pool.connection() as conn, conn.transaction():
            table, _info = self.lookup(conn, collection_id)
            conn.execute(f"DELETE FROM {self.collections_table} WHERE id = %s", (collection_id,))
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            for record in self.catalog.versions(collection_id):
                conn.execute(f"DROP TABLE IF EXISTS {quote(self.schema)}.{quote(record.location)}")
        self.catalog.forget_access(collection_id)
        self.catalog.forget_versions(collection_id)

    def close(self) -> None:
        self.pool.close()  # the async pool is closed by close_async, on its own loop
