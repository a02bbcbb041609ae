"""The `gis-service` command as a user runs it: import, collections, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson

from ..conftest import DATA, ROOT, free_port

CLI = [sys.executable, "-m", "gis_service.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_import_reports_and_lists(tmp_path: Path):
    store = str(tmp_path / "store")
    done = run(
        "import",
        str(DATA / "districts.geojson"),
        "--collection",
        "districts",
        "--title",
        "الأحياء",
        "--store",
        store,
    )
    assert done.returncode == 0, done.stderr
    assert "features read   100" in done.stdout
    assert "features stored 100" in done.stdout
    assert "EPSG:4326" in done.stdout
    assert "extent          55." in done.stdout
    listed = run("collections", env={"GIS_STORE": store})
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t")[:4] == ["districts", "100", "Polygon", "الأحياء\n"]


def test_default_store_folder_is_created(tmp_path: Path):
    done = subprocess.run(
        [*CLI, "collections"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "GIS_STORE"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "var" / "store").is_dir()


def test_import_errors_exit_non_zero_with_a_reason(tmp_path: Path):
    store = str(tmp_path / "store")
    missing = run("import", str(tmp_path / "nope.geojson"), "--collection", "x", "--store", store)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    bad_id = run(
        "import", str(DATA / "districts.geojson"), "--collection", "../x", "--store", store
    )
    assert bad_id.returncode == 2
    assert "not allowed" in bad_id.stderr
    bad_temporal = run(
        "import",
        str(DATA / "districts.geojson"),
        "--collection",
        "d",
        "--temporal",
        "a,b,c",
        "--store",
        store,
    )
    assert bad_temporal.returncode == 2


def test_serve_with_two_workers(tmp_path: Path):
    store = str(tmp_path / "store")
    assert (
        run(
            "import", str(DATA / "districts.geojson"), "--collection", "districts", "--store", store
        ).returncode
        == 0
    )
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2", "--store", store],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"http://127.0.0.1:{port}/collections/districts/items?limit=3"
                with urllib.request.urlopen(url, timeout=2) as res:
                    body = orjson.loads(res.read())
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert body["numberReturned"] == 3
        assert body["numberMatched"] == 100
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_entities_keys_and_owned_import(tmp_path: Path):
    from gis_service.settings import Settings
    from gis_service.store.factory import open_store

    store = str(tmp_path / "store")
    added = run(
        "entities", "add", "sha", "--name-en", "Health", "--name-ar", "الصحة", "--store", store
    )
    assert added.returncode == 0, added.stderr
    assert (
        run(
            "entities", "add", "sha", "--name-en", "x", "--name-ar", "y", "--store", store
        ).returncode
        == 2
    )  # exists already
    assert (
        run(
            "entities", "add", "Bad Id", "--name-en", "x", "--name-ar", "y", "--store", store
        ).returncode
        == 2
    )
    issued = run("keys", "issue", "sha", "--role", "editor", "--store", store)
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    assert issued.stdout == key + "\n" and key.startswith("gis_")  # the key alone
    assert run("keys", "issue", "nobody", "--role", "viewer", "--store", store).returncode == 2
    imported = run(
        "import",
        str(DATA / "districts.geojson"),
        "--collection",
        "d",
        "--owner",
        "sha",
        "--store",
        store,
    )
    assert imported.returncode == 0, imported.stderr
    assert (
        run(
            "import",
            str(DATA / "districts.geojson"),
            "--collection",
            "e",
            "--owner",
            "nobody",
            "--store",
            store,
        ).returncode
        == 2
    )
    target = open_store(Settings(store=store))
    try:
        policy = target.catalog.get_access("d")
        assert (policy.owner, policy.visibility.value) == ("sha", "private")
        key_id = key.split("_")[1]
        assert target.catalog.find_key(key_id).revoked is None
        assert run("keys", "revoke", key, "--store", store).returncode == 0
        assert target.catalog.find_key(key_id).revoked is not None
        assert run("keys", "revoke", key_id, "--store", store).returncode == 2
    finally:
        target.close()
