"""Issue 10 reproduced against real servers: what a rerun of the reporter's scenarios found.

Stopping PostgreSQL under read load answered one request in three runs with a 500: the
server's FATAL "terminating connection" reached an idle event-loop connection before its
socket closed, so asyncpg's protocol was out of step (`InternalClientError: cannot switch
to state 12; another operation (2) is in progress`) on the next read. The window between
the two is short on a local socket; a proxy that holds the client's side open after the
server's goes keeps it open for the test (as a slow network or a NAT does).
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gis_service.errors import StoreUnavailable
from gis_service.store.pg_async import AsyncPool
from gis_service.store.rows import Plan


def _one(sql: str) -> Plan[list]:
    rows = yield sql, []
    return rows


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold: bool) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    if not hold:
        writer.close()


async def _half_open_proxy(host: str, port: int) -> asyncio.Server:
    """Forwards both ways; when the server ends a session, the client's side stays open."""

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, port)
        await asyncio.gather(
            _pipe(client_r, server_w, hold=False),
            _pipe(server_r, client_w, hold=True),
            return_exceptions=True,
        )

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_connection_the_server_ended_while_idle_answers_503_and_is_not_reused(
    postgis_url: str,
) -> None:
    params = conninfo_to_dict(postgis_url)

    async def go() -> None:
        proxy = await _half_open_proxy(params["host"], int(params.get("port", 5432)))
        port = proxy.sockets[0].getsockname()[1]
        url = make_conninfo(postgis_url, host="127.0.0.1", port=str(port))
        pool = AsyncPool(url, size=1, settings={})
        try:
            ((pid,),) = await pool.run(_one("SELECT pg_backend_pid()"))
            with psycopg.connect(postgis_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            await asyncio.sleep(0.5)  # the FATAL arrives; the socket stays open
            with pytest.raises(StoreUnavailable):
                await pool.run(_one("SELECT 1"))
            assert pool._idle == []  # the out-of-step connection is not handed out again
            assert await pool.run(_one("SELECT 2")) == [(2,)]  # a fresh one serves
        finally:
            await pool.close()
            proxy.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proxy.wait_closed(), 1)

    asyncio.run(go())
