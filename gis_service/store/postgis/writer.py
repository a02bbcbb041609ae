"""Writing a PostGIS collection: a new table per generation, swapped in one transaction.

Rows are copied into a temporary staging table first (no WAL, no index to maintain), then
moved into the new table in one sorted INSERT, so the table is born in spatial order (a bbox
page reads a few heap pages) without CLUSTER's second rewrite and index rebuilds; the
indexes are then built once, in bulk. One COPY stays open across batches and a psycopg
thread sends each batch while the next is prepared, so client and server work overlap.
"""

from __future__ import annotations

import re
import threading
import uuid
from contextlib import AbstractContextManager, suppress
from datetime import UTC, datetime

import orjson
import psycopg
import shapely
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from ...domain.collection import CollectionInfo, PropertyDef, PropertyType
from ...errors import Conflict, WriterBusy
from ..base import Actor, CollectionWriter, Feature, FeatureBatch
from ..indexing import indexed, pg_indexes
from ..rows import run
from ..sql import quote
from ..turns import deadline_after, left
from .copy_text import copy_text
from .filters import CASTS
from .host import Host
from .query import PgRows, column_name


def _column_type(prop: PropertyDef) -> str:
    kind = CASTS[prop.type]
    return f'{kind} COLLATE "C"' if prop.type is PropertyType.STRING else kind


# Slices handed to the COPY thread: its queue holds at most 1024, so at most 64 MB wait.
_CHUNK = 1 << 16


class PgWriter(CollectionWriter):
    """Holds one connection and one transaction from the first row to the swap."""

    def __init__(
        self,
        store: Host,
        collection_id: str,
        properties: list[PropertyDef],
        deadline: float | None = None,
    ):
        self.store = store
        self.collection_id = collection_id
        slug = re.sub(r"[^a-z0-9_]", "_", collection_id.lower())[:40]
        self.table_name = f"f_{slug}_{uuid.uuid4().hex[:8]}"
        self.table = f"{quote(store.schema)}.{quote(self.table_name)}"
        self.properties = properties
        self._copying: AbstractContextManager[Copy] | None = None
        self._copy: Copy | None = None
        if deadline is None:
            deadline = deadline_after(store.statement_timeout_ms)
        self._take_turn(deadline)
        try:
            self._prepare(properties)
        except BaseException as exc:
            self.abort()
            if self._lost(exc):
                raise self.store.pool.reach.failed(exc) from exc
            raise

    def _take_turn(self, deadline: float | None) -> None:
        """One writer per collection at a time (held to commit): edits copy the current rows.

        In this process writers queue for the turn before taking a pooled connection, so
        one waiting holds none; across processes the advisory lock decides, waited for no
        longer than the deadline (lock_timeout). The holder needs no second connection.
        """
        key = f"{self.store.schema}.{self.collection_id}"
        self._turn: threading.Lock | None = self.store.turns.take(key, deadline, self.collection_id)
        try:
            self._conn_cm = self.store.pool.connection(timeout=left(deadline))
            self.conn = self._conn_cm.__enter__()
        except BaseException as exc:
            self._conn_cm = None
            self._end_turn()
            if isinstance(exc, PoolTimeout):
                raise WriterBusy(self.collection_id) from None
            raise
        try:
            self.conn.autocommit = False
            wait = left(deadline)
            # the wait is bounded by lock_timeout; the writer's statements by nothing
            self.conn.execute(
                "SELECT set_config('statement_timeout', '0', true),"
                " set_config('lock_timeout', %s, true)",
                ("0" if wait is None else f"{max(1, round(wait * 1000))}ms",),
            )
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
            self.conn.execute("SELECT set_config('lock_timeout', '0', true)")
        except BaseException as exc:
            self.abort()
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                raise WriterBusy(self.collection_id) from None
            if self._lost(exc):  # a pooled connection the server ended meanwhile
                raise self.store.pool.reach.failed(exc) from exc
            raise

    def _lost(self, exc: BaseException) -> bool:
        """Whether `exc` means the server ended this writer's connection (a 503, not a 500)."""
        conn = getattr(self, "conn", None)
        return isinstance(exc, psycopg.Error) and self.store.pool.lost(exc, conn)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        super().__exit__(exc_type, exc, tb)
        if isinstance(exc, BaseException) and self._lost(exc):
            raise self.store.pool.reach.failed(exc) from exc

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    def get_feature(self, fid: int) -> Feature:
        """The row as this generation holds it now: copied, or as written (on this writer's
        own connection, so the writer whose turn it is needs no other)."""
        self._end_copy()
        info = self.previous or CollectionInfo(
            id=self.collection_id, title=self.collection_id, properties=self.properties
        )
        return run(self.conn, PgRows(self.stage, info).by_id(fid, self.collection_id))

    def _prepare(self, properties: list[PropertyDef]) -> None:
        self.conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index builds sort in memory
        self.conn.execute("SET LOCAL work_mem = '256MB'")  # so does the spatial ORDER BY
        # Text compares by code point, as every ORDER BY here and SQLite do; equality is the
        # same in any deterministic collation, and "C" sorts fastest when indexes are built.
        cols = ", ".join(
            f"{quote(column_name(i))} {_column_type(p)}" for i, p in enumerate(properties)
        )
        self.conn.execute(
            f'CREATE TABLE {self.table} ("fid" bigint NOT NULL,'
            f' "geom" geometry CHECK (ST_SRID("geom") = 4326){", " if cols else ""}{cols})'
        )
        self.stage = quote(f"stage_{uuid.uuid4().hex[:12]}")
        self.conn.execute(f"CREATE TEMP TABLE {self.stage} (LIKE {self.table}) ON COMMIT DROP")
        self.columns = [quote(column_name(i)) for i in range(len(properties))]
        names = ", ".join(['"fid"', '"geom"', *self.columns])
        self.copy_sql = f"COPY {self.stage} ({names}) FROM STDIN"  # one, open from the
        # first row to the next other statement

    def copy_current(self, version: int | None = None) -> None:
        """Start from the current generation's rows, or a version's (same positional columns)."""
        old, self.previous = self.store.lookup(self.conn, self.collection_id, version)
        if self.previous.properties != self.properties:  # replaced since the caller looked
            raise Conflict(
                f"collection {self.collection_id!r} was replaced meanwhile; GET it again"
            )
        self.conn.execute(f"INSERT INTO {self.stage} SELECT * FROM {old}")
        self.conn.execute(f'CREATE INDEX ON {self.stage} ("fid")')  # for edits' deletes
        (top,) = self.conn.execute(f'SELECT max("fid") FROM {self.stage}').fetchone()
        self.next_fid = (top or 0) + 1

    def delete(self, fids: list[int]) -> None:
        self._end_copy()
        self.conn.execute(f'DELETE FROM {self.stage} WHERE "fid" = ANY(%s)', (fids,))

    def write(self, batch: FeatureBatch) -> None:
        if self.previous is not None:  # editing a copy: a row given again replaces the old one
            self.delete(batch.fids.tolist())
        columns = [batch.columns[p.name] for p in self.properties]
        text = copy_text(batch.fids, batch.geometries, columns, self.properties)
        copy = self._open_copy()
        if text is not None:
            for start in range(0, len(text), _CHUNK):
                copy.write(text[start : start + _CHUNK])
            return
        # a value Arrow would not take: let psycopg format it and PostgreSQL judge it
        hexes = shapely.to_wkb(batch.geometries, hex=True)
        for row in zip(batch.fids.tolist(), hexes, *columns, strict=True):
            copy.write_row(row)

    def _open_copy(self) -> Copy:
        if self._copy is None:
            cursor = self.conn.cursor()
            self._copying = cursor.copy(self.copy_sql, writer=QueuedLibpqWriter(cursor))
            self._copy = self._copying.__enter__()
        return self._copy

    def _end_copy(self, error: BaseException | None = None) -> None:
        """Finish the open COPY (waits for the server); with `error`, abandon it."""
        copying, self._copying, self._copy = self._copying, None, None
        if copying is not None:
            copying.__exit__(type(error) if error else None, error, None)

    def commit(self, info: CollectionInfo) -> None:
        conn = self.conn
        try:
            self._end_copy()
            self._refuse_existing()
            self._watch_client()
            self._build_table(info)
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

    def _build_table(self, info: CollectionInfo) -> None:
        """The staged rows into the new table, in spatial order, then its indexes."""
        conn = self.conn
        # Rows near each other on the map become neighbours on disk (PostGIS orders
        # geometries along a Hilbert curve): a bbox page then reads a few heap pages
        # instead of one per feature. The staged rows have no SRID yet.
        rest = "".join(f", {c}" for c in self.columns)
        conn.execute(
            f'INSERT INTO {self.table} SELECT "fid", ST_SetSRID("geom", 4326){rest}'
            f" FROM {self.stage} ORDER BY 2"
        )
        conn.execute(f'ALTER TABLE {self.table} ADD PRIMARY KEY ("fid")')
        index = quote(f"{self.table_name}_geom")
        conn.execute(f'CREATE INDEX {index} ON {self.table} USING gist ("geom")')
        if info.has_null_geometry:
            conn.execute(f'CREATE INDEX ON {self.table} ("fid") WHERE "geom" IS NULL')
        # A value's rows in fid order. With the fid in the key no two entries are equal,
        # so deduplication could only cost time (~10 % of each build), never save space.
        # Long text goes to a hash index instead (store/indexing.py).
        for position, prop in indexed(self.properties):
            for statement in pg_indexes(self.table, quote(column_name(position)), prop):
                conn.execute(statement)
        conn.execute(f"ANALYZE {self.table}")

    def _watch_client(self) -> None:
        """Stop if this process dies: by default a backend whose client is gone runs its
        statement (a sorted copy, index builds: minutes for a large layer) to the end,
        holding the collection's writer lock all along (PostgreSQL 14+ can check)."""
        if self.conn.info.server_version >= 140000:
            self.conn.execute("SET LOCAL client_connection_check_interval = '2s'")

    def _refuse_existing(self) -> None:
        """A create publishes only a new collection: checked under the advisory lock, which
        every writer of this collection holds to its commit (before any costly index)."""
        if not self.create_only:
            return
        sql = f"SELECT 1 FROM {self.store.collections_table} WHERE id = %s"
        if self.conn.execute(sql, (self.collection_id,)).fetchone():
            raise Conflict(f"collection {self.collection_id!r} exists already")

    def abort(self) -> None:
        if self._conn_cm is None:
            return  # already committed or aborted
        try:
            with suppress(Exception):  # the rollback undoes the copy either way
                self._end_copy(RuntimeError("import aborted"))
            if not (self.conn.broken or self.conn.closed):  # the server ended it: undone
                self.conn.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        try:
            conn_cm, self._conn_cm = self._conn_cm, None
            if conn_cm is not None:
                try:
                    if not (self.conn.broken or self.conn.closed):
                        self.conn.autocommit = True
                finally:  # back to the pool, which discards a lost connection
                    conn_cm.__exit__(None, None, None)
        finally:
            self._end_turn()  # after the connection: the next writer here may need it
