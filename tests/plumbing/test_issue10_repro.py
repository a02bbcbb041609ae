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
import time
from pathlib import Path

import orjson
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gis_service.errors import StoreUnavailable
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store
from gis_service.store.postgis.async_pool import AsyncPool
from gis_service.store.rows import Plan

from ..conftest import make_settings, point_layer


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


def _pg_store(request: pytest.FixtureRequest, tmp_path: Path):
    settings = make_settings("postgis", request, tmp_path, postgis_pool_size=1)
    store = open_store(settings)
    source = tmp_path / "pts.geojson"
    source.write_bytes(orjson.dumps(point_layer(5)))
    import_file(store, source, IngestOptions(collection_id="pts", title="Points"))
    return store


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.3)


def _append_one(store) -> None:
    """A write that needs the pool's one connection back: it commits, or the pool leaked."""
    info = store.get_collection("pts")
    with store.replace_collection(
        collection_id="pts", properties=info.properties, keep_existing=True, deadline=None
    ) as writer:
        writer.commit(info)


def test_a_writer_on_a_connection_the_server_ended_answers_503_and_frees_it(
    request: pytest.FixtureRequest, tmp_path: Path, postgis_url: str
) -> None:
    """Stopping PostgreSQL under PATCH load answered 500s: a writer whose pooled connection
    the server had ended (idle, or mid-commit) raised psycopg's error, and its clean-up
    failed on the lost connection before giving it back (a pool slot gone for good)."""
    store = _pg_store(request, tmp_path)
    try:
        with store.pool.connection() as conn:  # the pool's one connection, idle between
            ((pid,),) = conn.execute("SELECT pg_backend_pid()").fetchall()
        _terminate(postgis_url, pid)
        with pytest.raises(StoreUnavailable):
            _append_one(store)
        _append_one(store)  # within the pool's 3 s wait: the slot came back
        info = store.get_collection("pts")
        writer = store.replace_collection(
            collection_id="pts", properties=info.properties, keep_existing=True
        )
        ((pid,),) = writer.conn.execute("SELECT pg_backend_pid()").fetchall()
        _terminate(postgis_url, pid)  # as a shutdown ends a writer mid-commit
        with pytest.raises(StoreUnavailable), writer:
            writer.commit(info)
        _append_one(store)
    finally:
        store.close()
