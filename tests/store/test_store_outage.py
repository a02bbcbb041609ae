"""When PostgreSQL goes away: 503 with Retry-After at once, /health stays up, /ready says
so, and the service recovers by itself when the database is back.

The outage runs on a cluster of its own (the session's shared one is never stopped), served
by a real server process, stopped the way an administrator would (`pg_ctl stop -m fast`).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role
from gis_service.errors import StoreUnavailable
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store
from gis_service.store.postgis.async_pool import AsyncPool
from gis_service.store.rows import Plan

from ..conftest import DATA, STORES, LiveServer, issue_key, make_settings
from ..pgcluster import Cluster, postgis_available

#: Features of the layer downloaded while the database stops: far more than the server
#: reads ahead of a client that stopped reading (batches in flight and socket buffers).
BIG = 40_000
NOTE = "x" * 1000
ANSWER_SECONDS = 5.0  # an outage is answered (503) within this
RECOVERY_SECONDS = 10.0  # and everything is back within this once PostgreSQL is


def _big_layer(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i, "note": NOTE},
            "geometry": {"type": "Point", "coordinates": [55 + i / BIG, 25]},
        }
        for i in range(BIG)
    ]
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


@dataclass
class World:
    cluster: Cluster
    settings: Settings
    editor: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not postgis_available():
        pytest.skip("PostgreSQL/PostGIS binaries are not installed")
    cluster = Cluster()
    try:
        url = cluster.start()
        settings = Settings(store=url, postgis_schema="outage")
        store = open_store(settings)
        try:
            import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="districts"))
            big = _big_layer(tmp_path_factory.mktemp("outage") / "big.geojson")
            import_file(store, big, IngestOptions(collection_id="big"))
            auth = issue_key(store, "sha", Role.EDITOR)
            store.catalog.set_access("districts", AccessPolicy(owner="sha"))
        finally:
            store.close()
        yield World(cluster, settings, auth)
    finally:
        with suppress(subprocess.CalledProcessError):  # a failed test may leave it stopped
            cluster.stop()


Call = Callable[[httpx.Client], httpx.Response]


def _patch(editor: dict[str, str]) -> Call:
    def call(http: httpx.Client) -> httpx.Response:
        current = http.get("/collections/districts/items/1", headers=editor)
        if current.status_code != 200:
            return current
        return http.patch(
            "/collections/districts/items/1",
            content=orjson.dumps({"properties": {"name_en": "patched"}}),
            headers={**editor, "If-Match": current.headers["etag"]},
        )

    return call


def _calls(editor: dict[str, str]) -> dict[str, Call]:
    """One request of each way a request reaches the database."""
    return {
        "page": lambda http: http.get("/collections/districts/items?limit=2"),
        "feature": lambda http: http.get("/collections/districts/items/1"),
        "collections": lambda http: http.get("/collections"),
        "download": lambda http: http.get("/collections/districts/items?f=csv"),
        "keyed page": lambda http: http.get("/collections/districts/items?limit=2", headers=editor),
        "patch": _patch(editor),
    }


def _timed(http: httpx.Client, call: Call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call(http)
    return response, time.monotonic() - started


def _download_cut_off(http: httpx.Client, cluster: Cluster) -> float:
    """Start a download, stop PostgreSQL while it streams: the seconds until it ends."""
    bbox = "54,24,57,26"  # a filter: the row cursor path (the whole layer reads by columns)
    with http.stream("GET", f"/collections/big/items?f=csv&bbox={bbox}") as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        next(chunks)
        cluster.stop_server()
        started = time.monotonic()
        with pytest.raises(httpx.HTTPError):  # cut off: never mistaken for a whole file
            for _chunk in chunks:
                pass
        return time.monotonic() - started


def test_an_outage_answers_503_at_once_and_the_service_recovers_by_itself(world: World) -> None:
    calls = _calls(world.editor)
    with (
        LiveServer(world.settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        for name, call in calls.items():
            assert call(http).status_code == 200, name
        assert http.get("/ready").status_code == 200

        assert _download_cut_off(http, world.cluster) < ANSWER_SECONDS
        for name, call in calls.items():
            response, seconds = _timed(http, call)
            assert response.status_code == 503, (name, response.text)
            assert seconds < ANSWER_SECONDS, name
            assert int(response.headers["retry-after"]) > 0, name
            assert response.headers["content-type"] == "application/problem+json", name
        health, seconds = _timed(http, lambda http: http.get("/health"))
        assert health.status_code == 200 and seconds < 1
        ready, seconds = _timed(http, lambda http: http.get("/ready"))
        assert ready.status_code == 503 and seconds < ANSWER_SECONDS
        assert "unreachable" in ready.json()["detail"]
        assert "retry-after" in ready.headers

        world.cluster.start_server()
        deadline = time.monotonic() + RECOVERY_SECONDS
        pending = dict(calls)
        while pending and time.monotonic() < deadline:
            pending = {n: c for n, c in pending.items() if c(http).status_code != 200}
            time.sleep(0.2)
        assert not pending, f"still failing {RECOVERY_SECONDS} s after the restart: {pending}"
        for name, call in calls.items():
            assert call(http).status_code == 200, name  # no broken connection left behind
        assert http.get("/ready").json() == {"status": "ready"}
    store = open_store(world.settings)
    try:
        events = store.catalog.audit(["big"], since=None, until=None, limit=10)
    finally:
        store.close()
    # the cut-off download was recorded while the database was away: kept, written later
    assert [(e.operation, e.status) for e in events] == [("download", 200)]


@pytest.mark.parametrize("kind", STORES)
def test_ready_answers_200_when_the_store_is_reachable(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with TestClient(create_app(make_settings(kind, request, tmp_path))) as client:
        response = client.get("/ready")
        assert response.status_code == 200
        assert response.json() == {"status": "ready"}
        assert client.get("/health").status_code == 200


def _one() -> Plan[list]:
    rows = yield "SELECT 1", []
    return rows


def test_a_server_that_never_answers_costs_one_connect_timeout_not_one_per_request() -> None:
    """A listening socket that never answers (a black-holed server): the first attempts
    time out; then, known down, only one request at a time waits on an attempt."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # connections complete in the backlog; nothing ever answers
        port = silent.getsockname()[1]
        pool = AsyncPool(f"postgresql://gis@127.0.0.1:{port}/gis", size=4, settings={}, timeout=0.5)

        async def go() -> list[BaseException | list]:
            return await asyncio.gather(
                *(pool.run(_one()) for _ in range(20)), return_exceptions=True
            )

        started = time.monotonic()
        results = asyncio.run(go())
        seconds = time.monotonic() - started
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    assert int(results[0].headers["Retry-After"]) > 0
    assert pool.reach.down
    assert seconds < 1.8  # 20 requests x 0.5 s / 4 connections would be 2.5 s
