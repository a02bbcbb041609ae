"""Row access shared by the SQL stores: the RowSource that `paging.run_page` drives.

Each store supplies its SELECT list and how a row becomes a Feature; filtering by id,
ordering, counting with a cap and existence checks are the same SQL on both engines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Any, Protocol

from ..errors import FeatureNotFound
from .base import Feature
from .sql import Where


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...


class SqlRows(ABC):
    #: Names the immutable generation read (counts of it may be remembered), or None.
    generation: Hashable | None = None

    def __init__(
        self, conn: Connection, *, table: str, fid: str, columns: str, placeholder: str
    ) -> None:
        self.conn, self.table, self.fid, self.ph = conn, table, fid, placeholder
        self.select_sql = f"SELECT {columns} FROM {table}"

    @abstractmethod
    def feature(self, row: tuple[Any, ...]) -> Feature: ...

    def by_id(self, fid: int, collection_id: str) -> Feature:
        row = self.conn.execute(f"{self.select_sql} WHERE {self.fid} = {self.ph}", (fid,))
        found = row.fetchone()
        if found is None:
            raise FeatureNotFound(collection_id, str(fid))
        return self.feature(found)

    def by_ids(self, fids: list[int]) -> list[Feature]:
        """Rows with these ids, in id order (chunked: SQL parameter lists are bounded)."""
        out: list[Feature] = []
        for start in range(0, len(fids), 500):
            chunk = fids[start : start + 500]
            marks = ", ".join([self.ph] * len(chunk))
            rows = self.conn.execute(
                f"{self.select_sql} WHERE {self.fid} IN ({marks}) ORDER BY {self.fid}", chunk
            ).fetchall()
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
    ) -> list[Feature]:
        sql, params = self._where(where, after, before)
        order = "DESC" if descending else "ASC"
        rows = self.conn.execute(
            f"{self.select_sql} WHERE {sql} ORDER BY {self.fid} {order}"
            f" LIMIT {self.ph} OFFSET {self.ph}",
            [*params, limit, offset],
        ).fetchall()
        return [self.feature(r) for r in rows]

    def select_sorted(
        self,
        where: Where,
        order_by: str,
        beyond: tuple[str, list[Any]] | None,
        limit: int,
        offset: int,
    ) -> list[Feature]:
        """Rows in an explicit order, optionally only those past a keyset position."""
        sql, params = where.sql(), list(where.params)
        if beyond is not None:
            sql += f" AND ({beyond[0]})"
            params += beyond[1]
        rows = self.conn.execute(
            f"{self.select_sql} WHERE {sql} ORDER BY {order_by} LIMIT {self.ph} OFFSET {self.ph}",
            [*params, limit, offset],
        ).fetchall()
        return [self.feature(r) for r in rows]

    def exists_beyond(self, where: Where, beyond: tuple[str, list[Any]]) -> bool:
        row = self.conn.execute(
            f"SELECT 1 FROM {self.table} WHERE {where.sql()} AND ({beyond[0]}) LIMIT 1",
            [*where.params, *beyond[1]],
        )
        return row.fetchone() is not None

    def exists(self, where: Where, *, after: int | None, before: int | None) -> bool:
        sql, params = self._where(where, after, before)
        row = self.conn.execute(f"SELECT 1 FROM {self.table} WHERE {sql} LIMIT 1", params)
        return row.fetchone() is not None

    def count(self, where: Where, cap: int) -> int | None:
        row = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {self.table} WHERE {where.sql()}"
            f" LIMIT {self.ph}) AS capped",
            [*where.params, cap + 1],
        ).fetchone()
        n = row[0] if row else 0
        return None if n > cap else n
