"""The event loop's PostgreSQL driver: psycopg-style plans carried out by asyncpg."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest

from gis_service.store.postgis.async_pool import AsyncPool, numbered
from gis_service.store.rows import Plan


def test_placeholders_are_numbered_and_cast_as_psycopg_sends_values() -> None:
    sql, values = numbered(
        "a = %s AND b = %s AND c = %s AND d LIKE %s AND e = %s AND f IS %s AND g = %s",
        [True, 7, 2.5, "x%", b"\x01", None, date(2020, 1, 2)],
    )
    assert sql == (
        "a = $1::boolean AND b = $2::bigint AND c = $3::double precision AND d LIKE $4::text"
        " AND e = $5::bytea AND f IS $6 AND g = $7::date"
    )
    assert values == [True, 7, 2.5, "x%", b"\x01", None, date(2020, 1, 2)]


def test_integers_beyond_bigint_travel_as_numeric_and_percent_signs_survive() -> None:
    sql, values = numbered("x %% 2 = %s AND y = %s", [2**70, -(2**63)])
    assert sql == "x % 2 = $1::numeric AND y = $2::bigint"
    assert values == [Decimal(2**70), -(2**63)]


def test_a_parameter_count_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="2 parameters for 1 placeholders"):
        numbered("a = %s", [1, 2])


def _plan() -> Plan[list[tuple]]:
    rows = yield (
        "SELECT %s::text::date, %s + 1, %s::text, %s::integer IS NULL, '50%%'",
        ["2021-03-04", 2**63, "عربي", None],
    )
    try:
        yield "SELECT * FROM no_such_table_here", []
    except psycopg.errors.UndefinedTable:
        more = yield "SELECT %s < now()", [datetime(2000, 1, 1, tzinfo=UTC)]
        return [tuple(rows[0]), tuple(more[0])]
    raise AssertionError("the error was not raised inside the plan")


def test_a_plan_runs_on_asyncpg_with_psycopg_errors(postgis_url: str) -> None:
    async def go() -> list[tuple]:
        pool = AsyncPool(postgis_url, size=1, settings={"jit": "off"})
        try:
            return await pool.run(_plan())
        finally:
            await pool.close()

    first, second = asyncio.run(go())
    assert first == (date(2021, 3, 4), Decimal(2**63 + 1), "عربي", True, "50%")
    assert second == (True,)


def _one(sql: str) -> Plan[list]:
    rows = yield sql, []
    return rows


def test_connections_are_reused_after_errors_and_replaced_when_cancelled_or_closed(
    postgis_url: str,
) -> None:
    async def go() -> None:
        pool = AsyncPool(postgis_url, size=2, settings={})
        try:
            await pool.open()
            (first,) = pool._idle
            with pytest.raises(psycopg.errors.UndefinedTable):
                await pool.run(_one("SELECT * FROM no_such_table_here"))
            assert pool._idle == [first]  # an error answer leaves the link usable
            slow = asyncio.ensure_future(pool.run(_one("SELECT pg_sleep(5)")))
            await asyncio.sleep(0.3)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert first.is_closed() and pool._idle == []  # never reused mid-statement
            assert await pool.run(_one("SELECT 1")) == [(1,)]
            (second,) = pool._idle
            await second.close()  # as when the server goes away
            assert await pool.run(_one("SELECT 2")) == [(2,)]
            assert pool._idle != [second] and len(pool._idle) == 1
        finally:
            await pool.close()

    asyncio.run(go())
