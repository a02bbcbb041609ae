"""HTTP edges on both stores: body ceilings (413 before reading), Allow on 405, 401 on keys."""

from __future__ import annotations

import http.client
import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import STORES, LiveServer, issue_key, make_settings, point_layer

OWNER = "sha"
PLACES = point_layer(2, "place", x0=55.3, y0=25.2, number="beds")
FEATURE_LIMIT = 1024 * 1024  # the live server's, so that a test body passes it quickly


@dataclass
class World:
    settings: Settings
    auth: dict[str, str]


def seed(settings: Settings, folder: Path) -> dict[str, str]:
    """One entity with an admin key, owning one public collection of two points."""
    store = open_store(settings)
    try:
        auth = issue_key(store, OWNER, Role.ADMIN, "Health", "الصحة")
        path = folder / "places.geojson"
        path.write_bytes(orjson.dumps(PLACES))
        import_file(store, path, IngestOptions(collection_id="places"))
        store.catalog.set_access("places", AccessPolicy(owner=OWNER, visibility=Visibility.PUBLIC))
    finally:
        store.close()
    return auth


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("hardening")
    settings = make_settings(request.param, request, folder)
    return World(settings, seed(settings, folder))


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[LiveServer]:
    settings = world.settings.model_copy(update={"feature_body_max_bytes": FEATURE_LIMIT})
    with LiveServer(settings) as live:
        yield live


def etag(client: TestClient, auth: dict[str, str], fid: int = 1) -> str:
    return client.get(f"/collections/places/items/{fid}", headers=auth).headers["etag"]


def body_requests(client: TestClient, auth: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(method, path, headers) of every endpoint taking a JSON body, ready to be sent."""
    match = {**auth, "If-Match": etag(client, auth)}
    return [
        ("PATCH", "/collections/places/items/1", match),
        ("PUT", "/collections/places/items/1", match),
        ("POST", "/collections/places/items", auth),
        ("PUT", "/collections/places/access", auth),
        ("POST", f"/entities/{OWNER}/keys", auth),
    ]


def test_a_huge_declared_length_is_413_at_once(world, client, server):
    for method, path, headers in body_requests(client, world.auth):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=3)
        try:
            conn.putrequest(method, path)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(2**31))
            started = time.monotonic()
            conn.endheaders(b"{}")
            res = conn.getresponse()
            elapsed = time.monotonic() - started
            problem = orjson.loads(res.read())
        finally:
            conn.close()
        assert res.status == 413, (method, path)
        assert elapsed < 1.0, (method, path, elapsed)
        assert res.getheader("content-type") == "application/problem+json"
        assert problem["status"] == 413 and "bytes" in problem["detail"]


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def stream_until_answered(port: int, head: bytes, total: int) -> tuple[bytes, int]:
    """Send a chunked body of up to `total` bytes; stop once the server answers."""
    sent = 0
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b'5\r\n{"a":\r\n')
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    return answer, sent


def test_a_streamed_oversized_body_is_413_without_reading_it(world, client, server):
    headers = {**world.auth, "If-Match": etag(client, world.auth)}
    lines = ["PATCH /collections/places/items/1 HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += ["Content-Type: application/json", "Transfer-Encoding: chunked"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with urllib.request.urlopen(f"{server.url}/collections/places/items/1") as warm:
        warm.read()
    assert server.process is not None
    before = peak_rss(server.process.pid)
    answer, sent = stream_until_answered(server.port, head, 128 * 1024**2)
    grown = peak_rss(server.process.pid) - before
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert sent < 16 * FEATURE_LIMIT  # answered long before the whole body was sent
    assert grown < 24 * 1024**2, grown


def test_a_large_property_value_is_still_accepted(world, client):
    big = "ق" * (5 * 1024**2)  # 10 MB of UTF-8
    res = client.patch(
        "/collections/places/items/2",
        content=orjson.dumps({"properties": {"name": big}}),
        headers={**world.auth, "If-Match": etag(client, world.auth, 2)},
    )
    assert res.status_code == 200, res.text[:300]
    got = client.get("/collections/places/items/2", headers=world.auth).json()
    assert got["properties"]["name"] == big


def test_a_chunked_body_within_the_limit_is_read(world, client):
    def parts() -> Iterator[bytes]:
        yield b'{"properties": '
        yield b'{"beds": 41}}'

    res = client.patch(
        "/collections/places/items/1",
        content=parts(),
        headers={**world.auth, "If-Match": etag(client, world.auth)},
    )
    assert res.status_code == 200, res.text
    assert "content-length" not in res.request.headers  # it really was chunked
    assert client.get("/collections/places/items/1").json()["properties"]["beds"] == 41


def test_sharing_bodies_have_a_small_ceiling(world, client):
    padding = " " * (65 * 1024)
    for path, body in (
        ("/collections/places/access", '{"visibility": "public"}'),
        (f"/entities/{OWNER}/keys", '{"role": "viewer"}'),
    ):
        method = "PUT" if path.endswith("access") else "POST"
        res = client.request(method, path, content=padding + body, headers=world.auth)
        assert res.status_code == 413, (path, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        small = client.request(method, path, content=body, headers=world.auth)
        assert small.status_code in (200, 201), small.text


def test_405_names_the_allowed_methods(client):
    res = client.delete("/conformance")
    assert res.status_code == 405
    assert set(res.headers["allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    assert res.headers["content-type"] == "application/problem+json"


def test_keys_without_any_key_is_401(client):
    for method in ("GET", "POST"):
        res = client.request(method, f"/entities/{OWNER}/keys", json={"role": "viewer"})
        assert res.status_code == 401, method
        assert res.headers["www-authenticate"].startswith("Bearer")
    res = client.delete(f"/entities/{OWNER}/keys/abc")
    assert res.status_code == 401


def test_the_api_document_declares_413_where_bodies_are_limited(client):
    paths = client.get("/api").json()["paths"]
    for path, method in (
        ("/collections/{collectionId}/items", "post"),
        ("/collections/{collectionId}/items/{featureId}", "put"),
        ("/collections/{collectionId}/items/{featureId}", "patch"),
        ("/collections/{collectionId}/access", "put"),
        ("/entities/{entityId}/keys", "post"),
    ):
        assert "413" in paths[path][method]["responses"], (path, method)
