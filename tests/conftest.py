"""Shared fixtures: every store-dependent test runs against both stores.

PostGIS comes from a throwaway cluster started here (or GIS_TEST_POSTGIS_URL); under CI
(CI=true) a missing PostGIS fails the run instead of skipping half the suite.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import Store
from gis_service.store.factory import open_store

from .pgcluster import Cluster, postgis_available

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CQL2_DATA = ROOT.parent / "shared" / "ogc-cql2-testdata"
STORES = ["geopackage", "postgis"]


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    given = os.environ.get("GIS_TEST_POSTGIS_URL")
    if given:
        yield given
        return
    if not postgis_available():
        message = "PostgreSQL/PostGIS binaries are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must test both stores")
        pytest.skip(message)
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def make_settings(kind: str, request: pytest.FixtureRequest, tmp: Path, **extra) -> Settings:
    """Settings for a fresh, empty store of the given kind."""
    if kind == "geopackage":
        return Settings(store=str(tmp / "store"), **extra)
    url = request.getfixturevalue("postgis_url")
    return Settings(store=url, postgis_schema=f"t_{uuid.uuid4().hex[:12]}", **extra)


DEMO_LAYERS = {
    "facilities": dict(path=DATA / "facilities.geojson", title="Facilities", temporal=("opened", None)),
    "districts": dict(path=DATA / "districts.geojson", title="Districts", temporal=None),
    "coverage": dict(path=DATA / "coverage.geojson", title="Network coverage", temporal=("updated", None)),
    "countries": dict(path=CQL2_DATA / "ne110m4cql2.gpkg", title="Countries", temporal=None,
                      layer="ne_110m_admin_0_countries"),
    "places": dict(path=CQL2_DATA / "ne110m4cql2.gpkg", title="Populated places",
                   temporal=None, layer="ne_110m_populated_places_simple"),
}


def load_demo(store: Store) -> None:
    for cid, spec in DEMO_LAYERS.items():
        import_file(store, spec["path"], IngestOptions(
            collection_id=cid, title=spec["title"], temporal=spec["temporal"],
            layer=spec.get("layer"),
        ))


@pytest.fixture(scope="session", params=STORES)
def demo_settings(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Settings]:
    """A store of each kind holding the demo layers; shared read-only by a whole session."""
    settings = make_settings(request.param, request, tmp_path_factory.mktemp("demo"))
    store = open_store(settings)
    try:
        load_demo(store)
    finally:
        store.close()
    yield settings


@pytest.fixture(scope="session")
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(demo_settings)) as test_client:
        yield test_client


@pytest.fixture(params=STORES)
def empty_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return make_settings(request.param, request, tmp_path)


@pytest.fixture
def empty_store(empty_settings: Settings) -> Iterator[Store]:
    store = open_store(empty_settings)
    try:
        yield store
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server on 127.0.0.1, in a thread, for clients that speak HTTP."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                log_level="warning", http="httptools", loop="asyncio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture(scope="session")
def live_server(demo_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(demo_settings) as server:
        yield server
