"""Creating a collection claims its id: one create wins, every other gets 409 at once, and a
failed create changes nobody's owner, visibility or data (both stores)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.domain.collection import CollectionInfo, PropertyDef, PropertyType
from gis_service.errors import Conflict
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import FeatureBatch
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, LiveServer, issue_key, make_settings

FACILITIES = (DATA / "facilities.geojson").read_bytes()  # 5000 features, 1.4 MB
DISTRICTS = (DATA / "districts.geojson").read_bytes()  # 100 features
BROKEN = DISTRICTS[: len(DISTRICTS) // 2]  # passes the upload checks, GDAL cannot read it


@dataclass
class World:
    settings: Settings
    headers: dict[str, dict[str, str]]  # "a-editor", "a-admin", "b-editor", ...


def make_world(request, tmp_path: Path, **extra) -> World:
    settings = make_settings(request.param, request, tmp_path, **extra)
    store = open_store(settings)
    headers = {}
    try:
        for entity in ("a", "b"):
            for role in (Role.EDITOR, Role.ADMIN):
                headers[f"{entity}-{role.value}"] = issue_key(store, entity, role)
    finally:
        store.close()
    return World(settings, headers)


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> World:
    return make_world(request, tmp_path)


@pytest.fixture(params=STORES)
def job_world(request, tmp_path) -> World:
    """Every upload above 1000 bytes becomes a background job."""
    return make_world(request, tmp_path, upload_sync_max_bytes=1000)


def create(client, headers, cid: str, content: bytes, **fields: str):
    return client.post(
        "/collections",
        headers=headers,
        data={"id": cid, **fields},
        files={"file": ("f.geojson", content)},
    )


def wait_job(client, url: str, headers: dict) -> dict:
    deadline = time.monotonic() + 60
    while True:
        doc = client.get(url, headers=headers).json()
        if doc["state"] not in ("queued", "running"):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.05)


def matched(client, headers, cid: str) -> int:
    res = client.get(f"/collections/{cid}/items?limit=1", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()["numberMatched"]


def test_eight_simultaneous_creates_one_wins(world):
    with TestClient(create_app(world.settings)) as client:
        who = [world.headers["a-editor" if i % 2 else "b-editor"] for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda h: create(client, h, "x", DISTRICTS), who))
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [409] * 7, [r.text for r in answers]
        winner = next(i for i, r in enumerate(answers) if r.status_code == 201)
        owner = "a" if winner % 2 else "b"
        access = client.get("/collections/x/access", headers=world.headers[f"{owner}-admin"])
        assert access.json()["owner"] == owner
        assert matched(client, who[winner], "x") == 100
        versions = client.get("/collections/x/versions", headers=who[winner]).json()
        assert [v["version"] for v in versions["versions"]] == [1]


def test_eight_simultaneous_jobs_one_wins(job_world):
    with TestClient(create_app(job_world.settings)) as client:
        h = job_world.headers["a-editor"]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: create(client, h, "x", DISTRICTS), range(8)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [202] + [409] * 7, [r.text for r in answers]
        job = next(r for r in answers if r.status_code == 202)
        assert wait_job(client, job.headers["location"], h)["state"] == "done"
        assert matched(client, h, "x") == 100


def test_creates_across_two_worker_processes(world):
    with LiveServer(world.settings, workers=2) as server:
        h = world.headers["a-editor"]

        def one(_: int) -> int:
            files = {"file": ("f.geojson", DISTRICTS)}
            with httpx.Client(base_url=server.url, timeout=60) as http:
                return http.post(
                    "/collections", headers=h, data={"id": "x"}, files=files
                ).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = sorted(pool.map(one, range(8)))
        assert codes == [201] + [409] * 7
        with httpx.Client(base_url=server.url, timeout=60) as http:
            res = http.get("/collections/x/items?limit=1", headers=h)
            assert res.json()["numberMatched"] == 100


@pytest.mark.parametrize("b_file", [BROKEN, DISTRICTS], ids=["unreadable", "valid"])
def test_a_second_create_while_a_job_runs_changes_nothing(job_world, b_file):
    """a's job is held at the writer lock while b posts the same id; b gets 409 at once."""
    w = job_world
    holder = open_store(w.settings)
    with TestClient(create_app(w.settings)) as client:
        lock = holder.replace_collection(collection_id="x", properties=[])  # a's job waits
        try:
            res = create(client, w.headers["a-editor"], "x", FACILITIES, visibility="private")
            assert res.status_code == 202, res.text
            started = time.monotonic()
            other = create(client, w.headers["b-editor"], "x", b_file, visibility="public")
            assert other.status_code == 409, other.text
            assert time.monotonic() - started < 2  # at once, not after importing
        finally:
            lock.abort()
            holder.close()
        done = wait_job(client, res.headers["location"], w.headers["a-editor"])
        assert done["state"] == "done", done
        access = client.get("/collections/x/access", headers=w.headers["a-admin"])
        assert access.status_code == 200, access.text
        assert (access.json()["owner"], access.json()["visibility"]) == ("a", "private")
        assert client.get("/collections/x").status_code == 404  # still private
        assert client.get("/collections/x", headers=w.headers["b-editor"]).status_code == 404
        assert matched(client, w.headers["a-editor"], "x") == 5000
        # and once a's collection exists, b's create is refused before anything is imported
        again = create(client, w.headers["b-editor"], "x", b_file, visibility="public")
        assert again.status_code == 409
        assert matched(client, w.headers["a-editor"], "x") == 5000
        access = client.get("/collections/x/access", headers=w.headers["a-admin"]).json()
        assert (access["owner"], access["visibility"]) == ("a", "private")


def test_failed_create_releases_its_claim(job_world):
    w = job_world
    with TestClient(create_app(w.settings)) as client:
        res = create(client, w.headers["b-editor"], "x", BROKEN)
        assert res.status_code == 202
        assert wait_job(client, res.headers["location"], w.headers["b-editor"])["state"] == "failed"
        assert client.get("/collections/x", headers=w.headers["b-editor"]).status_code == 404
        res = create(client, w.headers["a-editor"], "x", DISTRICTS)
        assert res.status_code == 202, res.text
        assert wait_job(client, res.headers["location"], w.headers["a-editor"])["state"] == "done"
        access = client.get("/collections/x/access", headers=w.headers["a-admin"]).json()
        assert access["owner"] == "a"


def test_create_over_a_cli_import_is_409_and_keeps_it_public(world, tmp_path):
    store = open_store(world.settings)
    try:
        path = tmp_path / "d.geojson"
        path.write_bytes(DISTRICTS)
        import_file(store, path, IngestOptions(collection_id="x"))  # no access row at all
    finally:
        store.close()
    with TestClient(create_app(world.settings)) as client:
        for content in (FACILITIES, BROKEN):
            res = create(client, world.headers["b-editor"], "x", content, visibility="private")
            assert res.status_code == 409, res.text
        doc = client.get("/collections/x").json()  # anonymous: still public
        assert doc["id"] == "x"
        assert matched(client, {}, "x") == 100
        assert (
            client.get("/collections/x/access", headers=world.headers["b-admin"]).status_code == 403
        )
    store = open_store(world.settings)
    try:
        assert "x" not in store.catalog.access_map()
    finally:
        store.close()


def test_a_failed_create_puts_back_a_policy_left_by_no_collection(world):
    """An access row without a collection (a killed CLI import left it) is put back as it
    was when a create fails, and replaced when one succeeds."""
    store = open_store(world.settings)
    try:
        store.catalog.set_access("x", AccessPolicy(owner="b", visibility=Visibility.PUBLIC))
        left = store.catalog.access_text("x")
    finally:
        store.close()
    with TestClient(create_app(world.settings)) as client:
        res = create(client, world.headers["a-editor"], "x", BROKEN)
        assert res.status_code == 400, res.text
        store = open_store(world.settings)
        try:
            assert store.catalog.access_text("x") == left
        finally:
            store.close()
        res = create(client, world.headers["a-editor"], "x", DISTRICTS)
        assert res.status_code == 201, res.text
        access = client.get("/collections/x/access", headers=world.headers["a-admin"]).json()
        assert (access["owner"], access["visibility"]) == ("a", "private")


# -- the write path itself refuses to replace when it is a create ---------------------------
PROPS = [PropertyDef(name="n", type=PropertyType.INTEGER)]


def batch(n: int) -> FeatureBatch:
    points = shapely.points(np.full(n, 55.4), np.linspace(25.0, 25.5, n))
    return FeatureBatch(
        fids=np.arange(1, n + 1, dtype=np.int64), geometries=points, columns={"n": list(range(n))}
    )


def info(n: int) -> CollectionInfo:
    return CollectionInfo(id="x", title="x", properties=PROPS, feature_count=n, bbox=None)


def test_create_only_writer_refuses_an_existing_collection(empty_store, tmp_path):
    path = tmp_path / "d.geojson"
    path.write_bytes(DISTRICTS)
    import_file(empty_store, path, IngestOptions(collection_id="x"))
    with pytest.raises(Conflict):
        import_file(empty_store, path, IngestOptions(collection_id="x", create_only=True))
    writer = empty_store.replace_collection(collection_id="x", properties=PROPS, create_only=True)
    with pytest.raises(Conflict), writer:
        writer.write(batch(3))
        writer.commit(info(3))
    assert empty_store.get_collection("x").feature_count == 100
    assert [v.version for v in empty_store.catalog.versions("x")] == [1]


def test_two_create_writers_only_the_first_commits(empty_settings):
    """The second create waits for the writer lock; at its commit the first has published."""
    first_store, second_store = open_store(empty_settings), open_store(empty_settings)
    try:
        first = first_store.replace_collection(
            collection_id="x", properties=PROPS, create_only=True
        )
        with ThreadPoolExecutor(1) as pool:

            def second() -> None:
                with second_store.replace_collection(
                    collection_id="x", properties=PROPS, create_only=True
                ) as writer:
                    writer.write(batch(7))
                    writer.commit(info(7))

            later = pool.submit(second)
            time.sleep(0.3)
            assert not later.done()  # waiting for the lock
            first.write(batch(3))
            first.commit(info(3))
            with pytest.raises(Conflict):
                later.result(timeout=30)
        assert first_store.get_collection("x").feature_count == 3
        assert [v.version for v in first_store.catalog.versions("x")] == [1]
    finally:
        first_store.close()
        second_store.close()


def test_claims_are_atomic_and_a_stale_one_can_be_taken_over(empty_store):
    catalog = empty_store.catalog
    old = "2000-01-01T00:00:00Z"
    assert catalog.claim("x", "t1", "a", stale_before=old)
    assert not catalog.claim("x", "t2", "b", stale_before=old)  # held and alive
    catalog.release_claim("x", "t2")  # not theirs: nothing happens
    assert not catalog.claim("x", "t3", "b", stale_before=old)
    future = "2999-01-01T00:00:00Z"  # every heartbeat is older than this: t1 looks dead
    assert catalog.claim("x", "t4", "b", stale_before=future)
    catalog.release_claim("x", "t1")  # the dead holder's release leaves the new claim alone
    assert not catalog.claim("x", "t5", "a", stale_before=old)
    catalog.release_claim("x", "t4")
    assert catalog.claim("x", "t6", "a", stale_before=old)
