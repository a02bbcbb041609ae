"""A writer killed mid-commit, and a job whose worker died: what they leave is put right.

Writers are killed for real: a subprocess starts an import and os._exit()s at a chosen
point of the commit (before the version link, before the rename over the current file,
before the catalog records the version, mid-write), then the next store or writer must
clear or adopt the leftovers without losing any published generation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_service.api.publishing.jobs import start_job
from gis_service.app import create_app
from gis_service.domain.access import Role
from gis_service.ingest import IngestOptions, IngestReport, import_file
from gis_service.settings import Settings
from gis_service.store.catalog import Job
from gis_service.store.factory import open_store

from ..conftest import DATA, ROOT, STORES, issue_key, make_settings

DISTRICTS = DATA / "districts.geojson"  # 100 features: version 1
FACILITIES = DATA / "facilities.geojson"  # 5000 features: the write that is killed

KILLER = r"""
import os, sys
from pathlib import Path
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

point, store_url, schema, source = sys.argv[1:5]

def die(*args, **kwargs):
    os._exit(9)

def before(module, name, when):
    real = getattr(module, name)
    def wrapper(*args, **kwargs):
        if when(*args):
            os._exit(9)
        return real(*args, **kwargs)
    setattr(module, name, wrapper)

tmp = lambda *args: str(args[0]).endswith(".tmp")
if point == "before-link":
    before(os, "link", tmp)
elif point == "before-rename":
    before(os, "replace", tmp)
elif point == "before-record":
    from gis_service.store import catalog
    before(catalog.Catalog, "add_version", lambda *args: True)
elif point == "before-pg-commit":
    import psycopg
    before(psycopg.Connection, "commit", lambda *args: True)
elif point == "pg-stuck-in-index":  # dies while the server builds an index for a minute
    import threading
    import psycopg
    real_execute = psycopg.Connection.execute
    def execute(self, query, *args, **kwargs):
        if isinstance(query, str) and query.startswith("CREATE INDEX") and "gist" in query:
            threading.Timer(1.0, die).start()
            return real_execute(self, "SELECT pg_sleep(60)")
        return real_execute(self, query, *args, **kwargs)
    psycopg.Connection.execute = execute
options = IngestOptions(collection_id="x")
if point == "mid-write":
    options.on_progress = die
store = open_store(Settings(store=store_url, postgis_schema=schema))
import_file(store, Path(source), options)
print("not killed")
"""


def kill_a_writer(settings: Settings, point: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLER,
            point,
            settings.store,
            settings.postgis_schema,
            str(FACILITIES),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 9, result.stdout + result.stderr


def store_with_version_1(settings: Settings) -> None:
    store = open_store(settings)
    try:
        import_file(store, DISTRICTS, IngestOptions(collection_id="x"))
    finally:
        store.close()


def leftovers(folder: Path) -> list[str]:
    """Writers' temporary files."""
    return sorted(p.name for p in folder.glob(".*.tmp"))


def version_files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / ".versions" / "x").glob("*.gpkg"))


def gpkg_settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "store"))


@pytest.mark.parametrize("point", ["mid-write", "before-link", "before-rename"])
def test_an_unpublished_generation_is_cleared_at_opening(tmp_path, point):
    settings = gpkg_settings(tmp_path)
    folder = Path(settings.store)
    store_with_version_1(settings)
    kill_a_writer(settings, point)
    assert leftovers(folder)  # the killed writer's temporary file
    if point == "before-rename":
        assert version_files(folder) == ["1.gpkg", "2.gpkg"]  # 2 is nobody's
    store = open_store(settings)
    try:
        assert leftovers(folder) == []
        assert version_files(folder) == ["1.gpkg"]
        assert store.get_collection("x").feature_count == 100  # nothing published is lost
        assert [v.version for v in store.catalog.versions("x")] == [1]
        import_file(store, FACILITIES, IngestOptions(collection_id="x"))  # the next write
        assert store.get_collection("x").feature_count == 5000
        assert [v.version for v in store.catalog.versions("x")] == [1, 2]
        assert store.version_info("x", 1).feature_count == 100
    finally:
        store.close()


def test_a_published_but_unrecorded_generation_is_adopted(tmp_path):
    """Killed after the rename: readers may have seen version 2, so it stays version 2."""
    settings = gpkg_settings(tmp_path)
    folder = Path(settings.store)
    store_with_version_1(settings)
    kill_a_writer(settings, "before-record")
    store = open_store(settings)
    try:
        assert store.get_collection("x").feature_count == 5000
        records = store.catalog.versions("x")
        assert [(v.version, v.features) for v in records] == [(1, 100), (2, 5000)]
        assert records[1].operation == "import"  # from the record the file carries
        assert records[1].report is not None
        assert store.version_info("x", 2).version == 2
        import_file(store, DISTRICTS, IngestOptions(collection_id="x"))
        assert [v.version for v in store.catalog.versions("x")] == [1, 2, 3]
        assert store.version_info("x", 2).feature_count == 5000
        assert version_files(folder) == ["1.gpkg", "2.gpkg", "3.gpkg"]
        assert leftovers(folder) == []
    finally:
        store.close()


@pytest.mark.parametrize("point", ["before-rename", "before-record"])
def test_the_next_writer_recovers_in_an_open_store(tmp_path, point):
    """The store was opened before the crash: the next write clears or adopts, not 500."""
    settings = gpkg_settings(tmp_path)
    folder = Path(settings.store)
    store_with_version_1(settings)
    store = open_store(settings)
    try:
        kill_a_writer(settings, point)
        import_file(store, DISTRICTS, IngestOptions(collection_id="x"))
        expected = [1, 2] if point == "before-rename" else [1, 2, 3]
        assert [v.version for v in store.catalog.versions("x")] == expected
        assert store.get_collection("x").feature_count == 100
        assert version_files(folder) == [f"{n}.gpkg" for n in expected]
        assert leftovers(folder) == []
    finally:
        store.close()


def test_a_live_writers_files_are_left_alone(tmp_path):
    settings = gpkg_settings(tmp_path)
    folder = Path(settings.store)
    store_with_version_1(settings)
    kill_a_writer(settings, "mid-write")  # a dead writer's file for x
    store = open_store(settings)
    try:
        writer = store.replace_collection(collection_id="y", properties=[])  # alive, locked
        dead = folder / ".x.0123456789abcdef0123456789abcdef.tmp"
        dead.write_bytes(b"left by a killed writer")
        mine = writer.tmp  # type: ignore[attr-defined]
        again = open_store(settings)  # another process opening the store
        again.close()
        assert mine.exists()  # the live writer's, under its lock
        assert not dead.exists()
        writer.abort()
    finally:
        store.close()


def test_postgis_has_no_publish_window(request, tmp_path):
    """A writer killed just before COMMIT: everything it made (table, version, catalog row)
    goes with its transaction; the next write takes the lock and succeeds."""
    settings = make_settings("postgis", request, tmp_path)
    store_with_version_1(settings)
    store = open_store(settings)
    try:
        tables = _tables(store)
        kill_a_writer(settings, "before-pg-commit")
        deadline = time.monotonic() + 30
        while _tables(store) != tables:  # the server sees the client gone and rolls back
            assert time.monotonic() < deadline, _tables(store)
            time.sleep(0.1)
        assert store.get_collection("x").feature_count == 100
        assert [v.version for v in store.catalog.versions("x")] == [1]
        import_file(store, FACILITIES, IngestOptions(collection_id="x"))
        assert [v.version for v in store.catalog.versions("x")] == [1, 2]
        assert store.get_collection("x").feature_count == 5000
        assert len(_tables(store) - tables) == 1  # version 2's table, and nothing else
    finally:
        store.close()


def test_a_postgis_writer_killed_mid_statement_frees_the_collection(request, tmp_path):
    """The server stops a dead writer's statement within seconds, not when it would end
    (it would hold the collection's writer lock all along)."""
    settings = make_settings("postgis", request, tmp_path)
    store_with_version_1(settings)
    kill_a_writer(settings, "pg-stuck-in-index")
    started = time.monotonic()
    store = open_store(settings)
    try:
        import_file(store, DISTRICTS, IngestOptions(collection_id="x"))
        assert time.monotonic() - started < 20
        assert [v.version for v in store.catalog.versions("x")] == [1, 2]
    finally:
        store.close()


def _tables(store) -> set[str]:
    with store.pool.connection() as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (store.schema,)
        ).fetchall()
    return {r[0] for r in rows}


# -- background jobs whose worker died ------------------------------------------------------
@pytest.fixture(params=STORES)
def job_world(request, tmp_path) -> tuple[Settings, dict[str, str]]:
    settings = make_settings(request.param, request, tmp_path, upload_sync_max_bytes=1000)
    store = open_store(settings)
    try:
        auth = issue_key(store, "a", Role.EDITOR)
    finally:
        store.close()
    return settings, auth


def dead_job(settings: Settings, *, beat: str, claim: bool) -> str:
    """A create job whose worker died at `beat` (its last heartbeat), holding id x."""
    store = open_store(settings)
    try:
        job_id = os.urandom(16).hex()
        store.catalog.add_job(
            Job(job_id, "a", "x", "create", "running", 10, 5000, None, None, beat, beat)
        )
        if claim:
            assert store.catalog.claim("x", job_id, "a", stale_before="2000-01-01T00:00:00Z")
            store.catalog._do("UPDATE {p}claims SET updated = ?", (beat,))  # it beat last then
    finally:
        store.close()
    return job_id


def test_a_job_without_heartbeat_is_interrupted_and_frees_its_id(job_world):
    settings, headers = job_world
    job_id = dead_job(settings, beat="2020-01-01T00:00:00Z", claim=True)
    with TestClient(create_app(settings)) as client:
        doc = client.get(f"/jobs/{job_id}", headers=headers).json()
        assert doc["state"] == "interrupted", doc
        assert "stopped" in doc["error"]
        store = open_store(settings)
        try:
            assert store.catalog.get_job(job_id).state == "interrupted"  # recorded, not shown
        finally:
            store.close()
        res = client.post(
            "/collections",
            headers=headers,
            data={"id": "x"},
            files={"file": ("f.geojson", DISTRICTS.read_bytes())},
        )
        assert res.status_code == 202, res.text  # the id is free again
        deadline = time.monotonic() + 60
        while client.get(res.headers["location"], headers=headers).json()["state"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_job_silent_for_two_minutes_is_recorded_as_interrupted(job_world):
    settings, headers = job_world
    beat = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    job_id = dead_job(settings, beat=beat, claim=False)
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/jobs/{job_id}", headers=headers).json()["state"] == "interrupted"
    store = open_store(settings)
    try:
        job = store.catalog.get_job(job_id)
        assert (job.state, job.done) == ("interrupted", 10)
        assert job.updated > beat
    finally:
        store.close()


def test_a_job_with_a_fresh_heartbeat_is_running(job_world):
    settings, headers = job_world
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    job_id = dead_job(settings, beat=now, claim=True)
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/jobs/{job_id}", headers=headers).json()["state"] == "running"
        res = client.post(
            "/collections",
            headers=headers,
            data={"id": "x"},
            files={"file": ("f.geojson", DISTRICTS.read_bytes())},
        )
        assert res.status_code == 409  # its claim is alive


def test_a_running_job_beats_while_it_reports_no_progress(empty_store):
    """Ten minutes of index building report nothing: the heartbeat says the worker lives."""
    release = threading.Event()
    ended = threading.Event()

    def work(progress) -> IngestReport:
        release.wait(30)
        return IngestReport(collection_id="x")

    job = start_job(
        empty_store,
        entity="a",
        collection="x",
        operation="create",
        work=work,
        report_json=IngestReport.document,
        cleanup=ended.set,
        heartbeat=0.2,
    )
    try:
        time.sleep(2.5)
        running = empty_store.catalog.get_job(job.id)
        assert running.state == "running"
        assert running.updated > job.created  # beaten since, with no progress at all
    finally:
        release.set()
        assert ended.wait(30)
    deadline = time.monotonic() + 30
    while empty_store.catalog.get_job(job.id).state != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
