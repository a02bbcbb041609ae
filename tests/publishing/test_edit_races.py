"""Concurrent editors against a real multi-process server, on both stores.

Many clients PATCH one feature with If-Match at once: every request ends, only 200 or 412
(or a bounded 503) is answered, and the ETag each 200 answers is the one a later GET of the
version that request created answers, so a client that trusts it never overwrites a change
it has not seen. A writer that cannot get its turn in time answers 503 instead of hanging.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import STORES, LiveServer, issue_key, make_settings, point_layer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WEB = "http://www.opengis.net/def/crs/EPSG/0/3857"
ITEMS = "/collections/race/items"
FEATURES = 10
RACE_SECONDS = 5
TIMEOUT_MS = 4_000  # the statement timeout of the small-pool server


@dataclass
class World:
    settings: Settings
    headers: dict[str, str]
    server: LiveServer = field(init=False)


def _world(kind: str, request: pytest.FixtureRequest, tmp: Path, **extra: object) -> World:
    """A store holding one collection `race` and an editor's key for it."""
    settings = make_settings(kind, request, tmp, **extra)
    store = open_store(settings)
    try:
        auth = issue_key(store, "sha", Role.EDITOR)
        path = tmp / "race.geojson"
        path.write_bytes(orjson.dumps(point_layer(FEATURES, "start")))
        import_file(store, path, IngestOptions(collection_id="race"))
        store.catalog.set_access("race", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    finally:
        store.close()
    return World(settings, auth)


@pytest.fixture(params=STORES)
def racing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    world = _world(request.param, request, tmp_path)
    with LiveServer(world.settings, workers=2) as server:
        world.server = server
        yield world


@pytest.fixture(params=STORES)
def small_pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A short statement timeout and (on PostGIS) two pooled connections per process."""
    world = _world(
        request.param, request, tmp_path, postgis_pool_size=2, statement_timeout_ms=TIMEOUT_MS
    )
    with LiveServer(world.settings, workers=2) as server:
        world.server = server
        yield world


@dataclass
class Answer:
    status: int
    etag: str | None
    name: str
    crs: str
    seconds: float


def _get_etag(client: httpx.Client, fid: int, crs: str) -> str:
    got = client.get(f"{ITEMS}/{fid}", params={"crs": crs})
    assert got.status_code == 200, got.text
    return got.headers["etag"]


def _patch(client: httpx.Client, fid: int, etag: str, name: str, crs: str) -> Answer:
    started = time.monotonic()
    answer = client.patch(
        f"{ITEMS}/{fid}",
        content=orjson.dumps({"properties": {"name": name}}),
        headers={"If-Match": etag, "Content-Crs": f"<{crs}>", "Content-Type": "application/json"},
    )
    return Answer(
        answer.status_code, answer.headers.get("etag"), name, crs, time.monotonic() - started
    )


def _editor(world: World, number: int, start: threading.Barrier, out: list[Answer]) -> None:
    """PATCH feature 1 in a loop, trusting the ETag each 200 answers (as a client would)."""
    crs = WEB if number % 2 else CRS84
    with httpx.Client(base_url=world.server.url, headers=world.headers, timeout=30) as client:
        _get_etag(client, 2, crs)  # connections made and code loaded before the clock starts
        start.wait(timeout=30)
        until = time.monotonic() + RACE_SECONDS
        etag = None
        step = 0
        while time.monotonic() < until:
            if etag is None:
                etag = _get_etag(client, 1, crs)
            answer = _patch(client, 1, etag, f"client {number} step {step}", crs)
            out.append(answer)
            etag = answer.etag if answer.status == 200 else None
            step += 1


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a client never got its answer"


def _etags_by_version(world: World, fid: int) -> dict[str, dict[str, str]]:
    """name -> {crs: ETag} of feature `fid` in every version after the import."""
    found: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=world.server.url, headers=world.headers, timeout=30) as client:
        versions = client.get("/collections/race/versions").json()["versions"]
        for record in versions[1:]:  # the first is the import
            for crs in (CRS84, WEB):
                got = client.get(
                    f"{ITEMS}/{fid}", params={"version": record["version"], "crs": crs}
                )
                assert got.status_code == 200, got.text
                name = got.json()["properties"]["name"]
                found.setdefault(name, {})[crs] = got.headers["etag"]
    return found


def test_answered_etags_are_those_of_the_state_each_edit_created(racing: World):
    answers: list[Answer] = []
    start = threading.Barrier(16)
    _run([threading.Thread(target=_editor, args=(racing, i, start, answers)) for i in range(16)])
    statuses = {a.status for a in answers}
    assert statuses <= {200, 412, 503}, statuses
    assert all(a.seconds < 30 for a in answers if a.status == 503)
    won = [a for a in answers if a.status == 200]
    seen = Counter(a.status for a in answers)
    assert len(won) >= 5, f"only {len(won)} edits landed of {seen}"
    states = _etags_by_version(racing, 1)
    # every edit that answered 200 made exactly one version, and no other edit made one
    assert sorted(states) == sorted(a.name for a in won)
    lies = [a for a in won if a.etag != states[a.name][a.crs]]
    assert not lies, f"{len(lies)} of {len(won)} 200s answered another state's ETag"


def test_editors_finish_within_the_statement_timeout_with_a_small_pool(small_pool: World):
    """Eight editors of eight features at once, three rounds: every edit lands, in time."""
    answers: list[Answer] = []

    def editor(fid: int, start: threading.Barrier) -> None:
        with httpx.Client(
            base_url=small_pool.server.url,
            headers=small_pool.headers,
            timeout=TIMEOUT_MS / 1000 + 5,
        ) as client:
            for step in range(3):
                etag = _get_etag(client, fid, CRS84)
                start.wait(timeout=30)
                answers.append(_patch(client, fid, etag, f"feature {fid} step {step}", CRS84))

    barrier = threading.Barrier(8)
    _run([threading.Thread(target=editor, args=(fid, barrier)) for fid in range(1, 9)])
    assert len(answers) == 24
    assert all(a.seconds < TIMEOUT_MS / 1000 for a in answers), max(a.seconds for a in answers)
    assert [a.status for a in answers] == [200] * 24


def test_a_writer_that_cannot_get_its_turn_answers_503_in_time(small_pool: World):
    """Another process holds the collection's writer turn: the edit waits, boundedly."""
    store = open_store(small_pool.settings)
    try:
        info = store.get_collection("race")
        with (
            store.replace_collection(
                collection_id="race", properties=info.properties, keep_existing=True
            ) as holder,
            httpx.Client(
                base_url=small_pool.server.url,
                headers=small_pool.headers,
                timeout=TIMEOUT_MS / 1000 + 10,
            ) as client,
        ):
            etag = _get_etag(client, 1, CRS84)  # readers never wait for a writer
            answer = _patch(client, 1, etag, "blocked", CRS84)
            holder.abort()
            assert answer.status == 503, answer
            assert TIMEOUT_MS / 1000 * 0.5 < answer.seconds < TIMEOUT_MS / 1000 + 2, answer
            assert _patch(client, 1, etag, "free again", CRS84).status == 200
    finally:
        store.close()
