"""Shared fixtures: every store-dependent test runs against both stores.

PostGIS comes from a throwaway cluster started here (or GIS_TEST_POSTGIS_URL); under CI
(CI=true) a missing PostGIS fails the run instead of skipping half the suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import Entity, Role, new_key
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.base import Store
from gis_service.store.factory import open_store

from .pgcluster import Cluster, postgis_available

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CQL2_DATA = ROOT / "tests" / "data" / "ogc-cql2"  # provenance: tests/data/README.md
STORES = ["geopackage", "postgis"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def postgis_server() -> Iterator[tuple[str, str | None]]:
    """(the service's URL, a superuser's URL when the tests made the cluster themselves)."""
    given = os.environ.get("GIS_TEST_POSTGIS_URL")
    if given:
        yield given, None
        return
    if not postgis_available():
        message = "PostgreSQL/PostGIS binaries are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must test both stores")
        pytest.skip(message)
    cluster = Cluster()
    try:
        url = cluster.start()
        yield url, cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgis_url(postgis_server: tuple[str, str | None]) -> str:
    return postgis_server[0]


def make_settings(kind: str, request: pytest.FixtureRequest, tmp: Path, **extra) -> Settings:
    """Settings for a fresh, empty store of the given kind."""
    if kind == "geopackage":
        return Settings(store=str(tmp / "store"), **extra)
    url = request.getfixturevalue("postgis_url")
    extra.setdefault("raster_dir", str(tmp / "rasters"))  # never ./var/rasters in a test
    return Settings(store=url, postgis_schema=f"t_{uuid.uuid4().hex[:12]}", **extra)


DEMO_LAYERS = {
    "facilities": dict(
        path=DATA / "facilities.geojson", title="Facilities", temporal=("opened", None)
    ),
    "districts": dict(path=DATA / "districts.geojson", title="Districts", temporal=None),
    "coverage": dict(
        path=DATA / "coverage.geojson", title="Network coverage", temporal=("updated", None)
    ),
    "countries": dict(
        path=CQL2_DATA / "ne110m4cql2.gpkg",
        title="Countries",
        temporal=None,
        layer="ne_110m_admin_0_countries",
    ),
    "catalogue": dict(
        path=ROOT / "tests" / "data" / "catalogue.geojson",
        title="Geometry catalogue",
        temporal=("when", None),
    ),
    "places": dict(
        path=CQL2_DATA / "ne110m4cql2.gpkg",
        title="Populated places",
        temporal=None,
        layer="ne_110m_populated_places_simple",
    ),
    "rivers": dict(
        path=CQL2_DATA / "ne110m4cql2.gpkg",
        title="Rivers and lake centerlines",
        temporal=None,
        layer="ne_110m_rivers_lake_centerlines",
    ),
}


def load_demo(store: Store) -> None:
    for cid, spec in DEMO_LAYERS.items():
        import_file(
            store,
            spec["path"],
            IngestOptions(
                collection_id=cid,
                title=spec["title"],
                temporal=spec["temporal"],
                layer=spec.get("layer"),
            ),
        )


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


def run_cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m gis_service.cli ARGS` as a user runs it, against the store of `settings`."""
    return subprocess.run(
        [sys.executable, "-m", "gis_service.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "GIS_STORE": settings.store,
            "GIS_POSTGIS_SCHEMA": settings.postgis_schema,
            **({"GIS_RASTER_DIR": settings.raster_dir} if settings.raster_dir else {}),
            **env,
        },
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real server process on 127.0.0.1 (uvicorn, httptools), for clients that speak HTTP.

    A separate process, not a thread: GDAL holds the GIL while it waits for HTTP answers.
    """

    def __init__(self, settings: Settings, workers: int = 1) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            **{
                f"GIS_{name.upper()}": str(value)
                for name, value in settings.model_dump().items()
                if value is not None
            },
        }
        self.cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "gis_service.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http",
            "httptools",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.process = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("the test server did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="session")
def live_server(demo_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(demo_settings) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright; under CI a missing one fails the run.

    Per module, not per session: while Playwright's sync API is open its event loop counts as
    running in this thread, and a later test's asyncio.run() would refuse to start.
    """
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; CI must test the pages in a browser")
        pytest.skip("chromium is not installed")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


def watched_page(browser, **context: object) -> tuple:
    """(context, page, errors): a new page whose script errors and console errors are kept."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return ctx, page, errors


def issue_key(
    store: Store, entity: str, role: Role, name_en: str | None = None, name_ar: str | None = None
) -> dict[str, str]:
    """An API key of `role` for `entity` (added first, named by its id unless told, if new).

    Returns the Authorization header that carries the key.
    """
    if store.catalog.get_entity(entity) is None:
        store.catalog.add_entity(
            Entity(id=entity, name_en=name_en or entity, name_ar=name_ar or entity)
        )
    key = new_key()
    store.catalog.add_key(key_id=key.key_id, entity=entity, role=role, secret_hash=key.secret_hash)
    return {"Authorization": f"Bearer {key.token}"}


def point_layer(
    count: int,
    label: str = "site",
    *,
    x0: float = 55.4,
    y0: float = 25.3,
    per_degree: int = 100,
    number: str | None = "n",
    **extra: object,
) -> dict:
    """A FeatureCollection of `count` points in a row east of (x0, y0), 1/per_degree apart.

    Feature i has name f"{label} {i}", the integer property `number` = i (unless None), and
    the constant properties `extra`. x is x0 + i / per_degree: a division, as tests wrote it.
    """
    features = []
    for i in range(count):
        properties: dict[str, object] = {"name": f"{label} {i}"}
        if number is not None:
            properties[number] = i
        properties.update(extra)
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {"type": "Point", "coordinates": [x0 + i / per_degree, y0]},
            }
        )
    return {"type": "FeatureCollection", "features": features}
