"""Row access shared by the SQL stores: the row plans that `paging.run_page` composes.

Each store supplies its SELECT list and how a row becomes a Feature; filtering by id,
ordering, counting with a cap and existence checks are the same SQL on both engines.

Methods return *plans*: generators that yield `(sql, params)` and are sent back all rows
of each statement. They do no I/O themselves, so one plan runs on a blocking connection
(`run`: SQLite, and PostgreSQL from worker threads) or on an asyncio one (PostGIS on the
event loop, `postgis.async_pool.run_plan`) without the paging logic being written twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Hashable
from typing import Any, Protocol, TypeVar

from ..errors import FeatureNotFound
from .base import Feature
from .sql import Where

T = TypeVar("T")
Statement = tuple[str, list[Any]]
Plan = Generator[Statement, list[tuple[Any, ...]], T]


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...


def run(conn: Connection, plan: Plan[T]) -> T:
    """Carry out a plan on a blocking DB-API connection; a statement's error is raised
    inside the plan, which may handle it (and go on) or let it through."""
    try:
        statement = next(plan)
        while True:
            try:
                rows = conn.execute(*statement).fetchall()
            except Exception as exc:
                statement = plan.throw(exc)
            else:
                statement = plan.send(rows)
    except StopIteration as done:
        return done.value


class SqlRows(ABC):
    #: Names the immutable generation read (counts of it may be remembered), or None.
    generation: Hashable | None = None

    def __init__(self, *, table: str, fid: str, columns: str, placeholder: str) -> None:
        self.table, self.fid, self.ph = table, fid, placeholder
        self.select_sql = f"SELECT {columns} FROM {table}"

    @abstractmethod
    def feature(self, row: tuple[Any, ...]) -> Feature: ...

    def by_id(self, fid: int, collection_id: str) -> Plan[Feature]:
        found = yield f"{self.select_sql} WHERE {self.fid} = {self.ph}", [fid]
        if not found:
            raise FeatureNotFound(collection_id, str(fid))
        return self.feature(found[0])

    def by_ids(self, fids: list[int]) -> Plan[list[Feature]]:
        """Rows with these ids, in id order (chunked: SQL parameter lists are bounded)."""
        out: list[Feature] = []
        for start in range(0, len(fids), 500):
            chunk = fids[start : start + 500]
            marks = ", ".join([self.ph] * len(chunk))
            rows = yield (
                f"{self.select_sql} WHERE {self.fid} IN ({marks}) ORDER BY {self.fid}",
                chunk,
            )
            out += [self.feature(r) for r in rows]
        return sorted(out, key=lambda f: f.fid)

    def _where(self, where: Where, after: int | None, before: int | None) -> tuple[str, list]:
        sql, params = where.sql(), list(where.params)
        if after is not None:
            sql += f" AND {self.fid} > {self.ph}"
            params.append(after)
        if before is not None:
            sql += f" AND {self.fid} < {self.ph}"
            params.append(before)
        return sql, params

    def select(
        self,
        where: Where,
        *,
        after: int | None,
        before: int | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Plan[list[Feature]]:
        sql, params = self._where(where, after, before)
        order = f"{self.fid} {'DESC' if descending else 'ASC'}"
        rows = yield self.page_sql(sql, order), [*params, limit, offset]
        return [self.feature(r) for r in rows]

    def page_sql(self, where_sql: str, order: str) -> str:
        """Rows matching `where_sql` in `order`, then LIMIT and OFFSET placeholders."""
        return (
            f"{self.select_sql} WHERE {where_sql} ORDER BY {order} LIMIT {self.ph} OFFSET {self.ph}"
        )

    def select_sorted(
        self,
        where: Where,
        order_by: str,
        beyond: tuple[str, list[Any]] | None,
        limit: int,
        offset: int,
    ) -> Plan[list[Feature]]:
        """Rows in an explicit order, optionally only those past a keyset position."""
        sql, params = where.sql(), list(where.params)
        if beyond is not None:
            sql += f" AND ({beyond[0]})"
            params += beyond[1]
        rows = yield (
            f"{self.select_sql} WHERE {sql} ORDER BY {order_by} LIMIT {self.ph} OFFSET {self.ph}",
            [*params, limit, offset],
        )
        return [self.feature(r) for r in rows]

    def exists_beyond(self, where: Where, beyond: tuple[str, list[Any]]) -> Plan[bool]:
        rows = yield (
            f"SELECT 1 FROM {self.table} WHERE {where.sql()} AND ({beyond[0]}) LIMIT 1",
            [*where.params, *beyond[1]],
        )
        return bool(rows)

    def exists(self, where: Where, *, after: int | None, before: int | None) -> Plan[bool]:
        sql, params = self._where(where, after, before)
        rows = yield f"SELECT 1 FROM {self.table} WHERE {sql} LIMIT 1", params
        return bool(rows)

    def count(self, where: Where, cap: int) -> Plan[int | None]:
        rows = yield (
            f"SELECT count(*) FROM (SELECT 1 FROM {self.table} WHERE {where.sql()}"
            f" LIMIT {self.ph}) AS capped",
            [*where.params, cap + 1],
        )
        n = rows[0][0] if rows else 0
        return None if n > cap else n
