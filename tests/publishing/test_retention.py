"""Retention of old versions on both stores: what is pruned, what is kept, what it frees."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import Store
from gis_service.store.catalog_versions import stamp
from gis_service.store.factory import open_store
from gis_service.store.retention import RetentionPolicy, prune

from ..conftest import STORES, issue_key, make_settings, point_layer, run_cli


def layer(label: str, count: int = 40) -> bytes:
    return orjson.dumps(point_layer(count, label, per_degree=1000, number=None, note="x" * 200))


class World:
    """Collection `sites` with versions 1..5 (v5 current), an admin key, and an app."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings = settings
        self.store = open_store(settings)
        self.headers = issue_key(self.store, "sha", Role.ADMIN)
        for version in range(1, 6):
            path = tmp / f"v{version}.geojson"
            path.write_bytes(layer(f"v{version}", 40 + version))
            import_file(self.store, path, IngestOptions(collection_id="sites"))
        policy = AccessPolicy(owner="sha", visibility=Visibility.PUBLIC)
        self.store.catalog.set_access("sites", policy)

    def age(self, *versions: int, days: float = 10) -> None:
        """Pretend these versions were published `days` ago."""
        when = stamp(datetime.now(UTC) - timedelta(days=days))
        for version in versions:
            self.store.catalog._do(
                "UPDATE {p}versions SET created = ? WHERE collection = ? AND version = ?",
                (when, "sites", version),
            )

    def sizes(self) -> dict[int, int]:
        return self.store.version_sizes("sites", self.store.catalog.versions("sites"))


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[World]:
    built = World(make_settings(request.param, request, tmp_path), tmp_path)
    try:
        yield built
    finally:
        built.store.close()


def data_exists(world: World, version: int) -> bool:
    """Whether the version's own data (a file, a table) is still on disk."""
    record = world.store.catalog.get_version("sites", version)
    if world.settings.store.startswith("postgresql"):
        table = f"{world.settings.postgis_schema}.{record.location}"
        with world.store.pool.connection() as conn:
            return conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None
    return world.store.version_path("sites", version).exists()


def test_prune_keeps_current_newest_and_young_and_frees_what_it_reports(world):
    before = world.sizes()
    assert sorted(before) == [1, 2, 3, 4, 5] and all(size > 0 for size in before.values())
    assert prune(world.store, RetentionPolicy(keep_days=7, keep_versions=2)) == []  # all young
    world.age(1, 2, 3)
    pruned = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=2))
    assert [(p.version, p.bytes) for p in pruned] == [(v, before[v]) for v in (1, 2, 3)]
    assert [data_exists(world, v) for v in range(1, 6)] == [False] * 3 + [True] * 2
    assert sorted(world.sizes()) == [4, 5]
    world.age(4, 5, days=30)  # the newest K and the current one stay, however old
    again = prune(world.store, RetentionPolicy(keep_days=0, keep_versions=1))
    assert [p.version for p in again] == [4]
    records = {r.version: r for r in world.store.catalog.versions("sites")}
    assert records[5].pruned is None and data_exists(world, 5)
    assert [records[v].pruned is not None for v in range(1, 6)] == [True] * 4 + [False]
    with TestClient(create_app(world.settings)) as client:
        current = client.get("/collections/sites/items?limit=100").json()
        assert current["numberReturned"] == 45  # the current data is intact
        assert {f["properties"]["name"].split()[0] for f in current["features"]} == {"v5"}
        gone = client.get("/collections/sites/items?version=2")
        assert gone.status_code == 410, gone.text
        assert gone.json()["version"] == 2
        assert client.get("/collections/sites/items/1?version=2").status_code == 410
        assert client.get("/collections/sites/items?version=2&f=csv").status_code == 410
        assert client.get("/collections/sites/changes?since=2").status_code == 410
        restore = client.post("/collections/sites/versions/2/restore", headers=world.headers)
        assert restore.status_code == 410
        assert prune(world.store, RetentionPolicy(keep_days=0, keep_versions=1)) == []  # idempotent


def test_versions_lists_bytes_per_version_and_the_total(world):
    world.age(1)
    (pruned,) = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=2))
    with TestClient(create_app(world.settings)) as client:
        doc = client.get("/collections/sites/versions").json()
    listed = {v["version"]: v for v in doc["versions"]}
    assert listed[1]["bytes"] is None and listed[1]["pruned"] is not None
    assert listed[1]["links"] == []  # nothing to read
    assert all(listed[v]["bytes"] > 0 and listed[v]["pruned"] is None for v in range(2, 6))
    assert doc["bytes"] == sum(listed[v]["bytes"] for v in range(2, 6))
    if world.settings.store.startswith("postgresql"):
        with world.store.pool.connection() as conn:
            for version in range(2, 6):
                record = world.store.catalog.get_version("sites", version)
                table = f"{world.settings.postgis_schema}.{record.location}"
                (size,) = conn.execute(
                    "SELECT pg_total_relation_size(to_regclass(%s))", (table,)
                ).fetchone()
                assert listed[version]["bytes"] == size
    else:  # the current file is a hard link of version 5's: on disk once, counted once
        current = world.store.path("sites").stat()
        kept = world.store.version_path("sites", 5).stat()
        assert current.st_ino == kept.st_ino
        files = [world.store.version_path("sites", v).stat().st_size for v in range(2, 6)]
        assert doc["bytes"] == sum(files)
        assert listed[1]["bytes"] is None and pruned.bytes > 0


def test_a_download_and_a_live_cursor_keep_their_versions(world):
    world.age(1, 2, 3, 4)  # v5, the current one, superseded v4 just now
    with TestClient(create_app(world.settings)) as client:
        download = client.get("/collections/sites/items?f=geojson&version=1")
        assert download.status_code == 200
        assert len(download.json()["features"]) == 41
        first = client.get("/collections/sites/items?version=4&limit=10").json()
        pinned = next(link["href"] for link in first["links"] if link["rel"] == "next")
        cursor = pinned.split("cursor=")[1]
        pruned = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=1))
        assert [p.version for p in pruned] == [2, 3]  # 1 (download) and 4 (cursor) are held
        page = client.get(f"/collections/sites/items?limit=10&cursor={cursor}")
        assert page.status_code == 200
        assert {f["properties"]["name"].split()[0] for f in page.json()["features"]} == {"v4"}
        # Once the leases lapse (a download's minutes, a cursor's GIS_VERSIONS_LEASE_S) ...
        later = datetime.now(UTC) + timedelta(seconds=world.settings.versions_lease_s + 60)
        pruned = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=1), now=later)
        assert sorted(p.version for p in pruned) == [1, 4]
        gone = client.get(f"/collections/sites/items?limit=10&cursor={cursor}")
        assert gone.status_code == 410
        problem = gone.json()
        assert "start again" in problem["detail"]
        assert problem["first"].endswith("/collections/sites/items?limit=10")
        # ... and a download cannot start on a pruned version.
        assert client.get("/collections/sites/items?f=geojson&version=1").status_code == 410


def test_a_cursor_keeps_a_version_no_longer_than_the_lease_after_it_was_superseded(world):
    """However often a reader pages (or forges a cursor), data superseded more than
    GIS_VERSIONS_LEASE_S ago is not kept for it."""
    world.age(1, 2, 3)  # v3 superseded v2 ten days ago
    with TestClient(create_app(world.settings)) as client:
        first = client.get("/collections/sites/items?version=2&limit=10").json()
        cursor = next(ln["href"] for ln in first["links"] if ln["rel"] == "next").split("cursor=")[
            1
        ]
        assert client.get(f"/collections/sites/items?limit=10&cursor={cursor}").status_code == 200
        pruned = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=1))
        assert [p.version for p in pruned] == [1, 2, 3]
        assert client.get(f"/collections/sites/items?limit=10&cursor={cursor}").status_code == 410


def test_a_download_stream_open_while_pruning_is_read_to_the_end(world):
    world.age(1, 2, 3, 4)
    url = "/collections/sites/items?f=csv&version=2"
    with TestClient(create_app(world.settings)) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        pruned = prune(world.store, RetentionPolicy(keep_days=7, keep_versions=1))
        body = response.read().decode("utf-8-sig")
    assert sorted(p.version for p in pruned) == [1, 3, 4]
    assert body.count("v2 ") == 42 and data_exists(world, 2)


def test_concurrent_passes_prune_each_version_once(world):
    world.age(1, 2, 3, 4)
    others = [open_store(world.settings) for _ in range(3)]  # as other processes
    results: list[list[int]] = []
    barrier = threading.Barrier(len(others))

    def run(store: Store) -> None:
        barrier.wait()
        found = prune(store, RetentionPolicy(keep_days=7, keep_versions=1))
        results.append([p.version for p in found])

    threads = [threading.Thread(target=run, args=(store,)) for store in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in others:
        store.close()
    assert sorted(v for found in results for v in found) == [1, 2, 3, 4]
    assert [data_exists(world, v) for v in range(1, 6)] == [False] * 4 + [True]


def test_cli_prune_prints_what_it_removed_and_the_bytes_freed(world):
    world.age(1, 2)
    sizes = world.sizes()
    args = ("versions", "prune", "--store", world.settings.store, "--keep-days", "5")
    done = run_cli(world.settings, *args, GIS_VERSIONS_KEEP="2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"sites\tversion 1\t{sizes[1]} bytes",
        f"sites\tversion 2\t{sizes[2]} bytes",
        f"pruned 2 version(s), {sizes[1] + sizes[2]} bytes freed",
    ]
    assert sorted(world.sizes()) == [3, 4, 5]


def test_the_server_prunes_periodically(world):
    world.age(1, 2, 3)
    settings = world.settings.model_copy(
        update={"versions_prune_interval_s": 1, "versions_keep": 2}
    )
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            doc = client.get("/collections/sites/versions").json()
            if all(v["pruned"] for v in doc["versions"][:3]):
                break
            time.sleep(0.2)
        assert [v["pruned"] is not None for v in doc["versions"]] == [True] * 3 + [False] * 2
    assert [data_exists(world, v) for v in range(1, 6)] == [False] * 3 + [True] * 2


def open_files() -> list[str]:
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            names.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the listing's own descriptor
            continue
    return names


def test_geopackage_lets_go_of_pruned_files(tmp_path, request):
    """A reader's cached connection would keep a pruned file's blocks allocated."""
    world = World(make_settings("geopackage", request, tmp_path), tmp_path)
    try:
        world.age(1, 2)
        with TestClient(create_app(world.settings)) as client:
            assert client.get("/collections/sites/items?version=1&limit=100").status_code == 200
            other = open_store(world.settings)  # the CLI, or another worker
            try:
                assert len(prune(other, RetentionPolicy(keep_days=7, keep_versions=3))) == 2
            finally:
                other.close()
            # This process's own pass (nothing left to prune) lets go of what others pruned.
            app_store = client.app.state.store
            assert prune(app_store, RetentionPolicy(keep_days=7, keep_versions=3)) == []
            assert client.get("/collections/sites/items").status_code == 200
            # the app's connections are the question: the test's own helper store let go first
            world.store.close()
            mine = str(tmp_path)
            deleted = [n for n in open_files() if n.startswith(mine) and "(deleted)" in n]
            assert deleted == []
    finally:
        world.store.close()
