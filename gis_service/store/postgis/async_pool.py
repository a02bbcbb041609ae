"""PostgreSQL connections for the event loop: the hot reads without a worker thread.

A request served from the thread pool pays two thread hand-offs and a GIL convoy on every
store call; under load that cost more CPU than the query itself (py-spy, W2 in
bench/README.md). On the loop, asyncpg asks PostgreSQL for about 40 µs of CPU per
statement where psycopg's asyncio connection needs about 100 µs, so the GET reads use
asyncpg; everything else (writes, COPY, downloads, the catalog) stays on psycopg.

The same plans (`rows.Plan`) run here and on the blocking psycopg pool, so there is one
copy of the SQL and paging logic. Plans are written with psycopg's `%s` placeholders;
`numbered` rewrites them as `$n` with the cast psycopg's own type choice implies, and
errors come back as psycopg's error classes (by SQLSTATE) so one set of handlers serves
both drivers.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
import psycopg
from psycopg.conninfo import conninfo_to_dict

from ..rows import Plan
from .pool import Reachability, unreachable

T = TypeVar("T")
_PLACEHOLDER = re.compile(r"%%|%s")
_INT8 = range(-(2**63), 2**63)
_CASTS: dict[type, str] = {
    bool: "boolean",
    float: "double precision",
    str: "text",
    bytes: "bytea",
    date: "date",
    datetime: "timestamptz",
    Decimal: "numeric",
}


def numbered(sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """psycopg-style SQL and parameters as asyncpg wants them.

    Each parameter is cast to the type of its Python value, as psycopg sends it, so the
    server's inference does not depend on the context (`$1::text::date`, not `$1::date`
    that would need a `date` object); integers beyond bigint travel as numeric.
    """
    values = list(params)
    count = 0

    def placeholder(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        value = values[count]
        count += 1
        if value is None:
            return f"${count}"
        if type(value) is int:
            if value in _INT8:
                return f"${count}::bigint"
            values[count - 1] = Decimal(value)
            return f"${count}::numeric"
        cast = _CASTS.get(type(value))
        return f"${count}::{cast}" if cast else f"${count}"

    sql = _PLACEHOLDER.sub(placeholder, sql)
    if count != len(values):
        raise ValueError(f"{len(values)} parameters for {count} placeholders")
    return sql, values


def as_psycopg_error(exc: asyncpg.PostgresError) -> psycopg.Error:
    """The psycopg error class of the same SQLSTATE (UndefinedTable, QueryCanceled...)."""
    try:
        kind = psycopg.errors.lookup(exc.sqlstate)
    except KeyError:
        kind = psycopg.errors.DatabaseError
    return kind(str(exc))


async def run_plan(conn: asyncpg.Connection, plan: Plan[T]) -> T:
    """Carry out a plan on an asyncpg connection (as `rows.run` does on a blocking one)."""
    try:
        statement = next(plan)
        while True:
            try:
                rows = await conn.fetch(*_args(*statement))
            except asyncpg.PostgresError as exc:
                if unreachable(exc):  # the server is going away: nothing for the plan
                    raise
                statement = plan.throw(as_psycopg_error(exc))
            else:
                statement = plan.send(rows)
    except StopIteration as done:
        return done.value


def _args(sql: str, params: list[Any]) -> list[Any]:
    sql, values = numbered(sql, params)
    return [sql, *values]


class AsyncPool:
    """At most `size` asyncpg connections on the loop of the app, reused last in, first out.

    Not asyncpg's own pool: its acquire and release (timeouts, shields, a reset check)
    cost ~85 µs of CPU, three times the ~26 µs of the statement they serve, twice per
    request. Reads need none of it: they change no session state, and a connection goes
    back to the idle list only when its statements finished (one a request was cancelled
    in, or that lost its server, is closed instead). A server out of reach answers
    `StoreUnavailable` (see `pool`): connecting is bounded by `timeout`, and while the
    server is known to be down only one request at a time tries to connect.
    """

    def __init__(
        self,
        url: str,
        *,
        size: int,
        settings: dict[str, str],
        timeout: float = 30,
        reach: Reachability | None = None,
    ) -> None:
        self.url, self.size, self.settings = url, size, settings
        self.timeout = timeout
        # The server's statement timeout answers first; this one is for a silent server.
        statement_ms = settings.get("statement_timeout")
        self.command_timeout = int(statement_ms) / 1000 + timeout if statement_ms else None
        self.reach = reach or Reachability()
        self._idle: list[asyncpg.Connection] = []
        self._open: set[asyncpg.Connection] = set()
        self._slots: asyncio.Semaphore | None = None
        self._connecting = 0

    async def open(self) -> None:
        """Connect once now, so that a wrong URL or a missing server fails at start-up."""
        self._idle.append(await self._connect())

    async def _connect(self, probe: bool = False) -> asyncpg.Connection:
        if self.reach.down and self._connecting and not probe:  # one attempt at a time
            raise self.reach.failed(ConnectionError("the server is down"))
        params = conninfo_to_dict(self.url)  # URL or key=value, as psycopg takes it
        self._connecting += 1
        try:
            conn = await asyncpg.connect(
                host=params.get("host"),
                port=int(params["port"]) if params.get("port") else None,
                user=params.get("user"),
                password=params.get("password"),
                database=params.get("dbname"),
                ssl=params.get("sslmode"),
                server_settings=self.settings,
                timeout=self.timeout,
                command_timeout=self.command_timeout,
            )
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            if not unreachable(exc):
                raise
            raise self.reach.failed(exc) from exc
        finally:
            self._connecting -= 1
        self.reach.reached()
        self._open.add(conn)
        return conn

    async def close(self) -> None:
        conns, self._open, self._idle = self._open, set(), []
        for conn in conns:
            conn.terminate()

    async def probe(self) -> None:
        """One statement now, even while the server is known to be down (`/ready`)."""
        await self.run(_select_one(), probe=True)

    def _idle_connection(self) -> asyncpg.Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            self._open.discard(conn)  # the server ended it
        return None

    async def run(self, plan: Plan[T], *, probe: bool = False) -> T:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            conn = self._idle_connection() or await self._connect(probe)
            reusable = False
            try:
                result = await run_plan(conn, plan)
                reusable = True
                return result
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
                if conn.is_closed() or unreachable(exc):
                    raise self.reach.failed(exc) from exc
                reusable = not isinstance(exc, asyncpg.InterfaceError | OSError | TimeoutError)
                raise
            except asyncpg.InternalClientError as exc:
                if _out_of_step(exc):  # the server's FATAL came before its socket closed
                    raise self.reach.failed(exc) from exc
                reusable = True
                raise
            except Exception:
                reusable = True  # an error answer or our own exception: the link is idle
                raise
            finally:
                if reusable and not conn.is_closed():
                    self._idle.append(conn)
                else:  # cancelled mid-statement, or broken
                    self._open.discard(conn)
                    conn.terminate()


def _out_of_step(exc: asyncpg.InternalClientError) -> bool:
    """Whether asyncpg's protocol lost step with the server: the connection is unusable.

    A server ending an idle session (shutdown, pg_terminate_backend) sends a FATAL the
    protocol cannot place; until the socket's end arrives too, `is_closed()` is false and
    every statement on it fails so. A stale type cache is the one kind to keep the link.
    """
    return not isinstance(exc, asyncpg.OutdatedSchemaCacheError)


def _select_one() -> Plan[None]:
    yield "SELECT 1", []
