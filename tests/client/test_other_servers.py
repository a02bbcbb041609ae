"""The client reads other OGC API – Features servers through the standard paths only.

pygeoapi (the OGC reference implementation, a real server in a process of its own) serves
the demo facilities: it offers no GeoParquet, so the client pages it, and the frame must
equal the source file. The stand-in server (tests/client/stand_in.py) provokes what a
correct server never does: ``next`` on an empty page, and a count its pages contradict.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import shapely

from gis_service.client import BadRequest, Client, Incomplete
from tests.client.sources import assert_matches_source, source_frame
from tests.client.stand_in import items_page, stand_in
from tests.conftest import DATA, ROOT, free_port

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 500}}
  map: {{url: 'http://127.0.0.1/{{z}}/{{x}}/{{y}}.png', attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification:
    title: pygeoapi for the client tests
    description: the demo facilities
    keywords: [test]
    keywords_type: theme
    terms_of_service: none
    url: http://127.0.0.1
  license: {{name: none, url: http://127.0.0.1}}
  provider: {{name: test, url: http://127.0.0.1}}
  contact: {{name: test, position: test, address: x, city: x, stateorprovince: x,
    postalcode: x, country: x, phone: x, fax: x, email: test@example.invalid,
    url: http://127.0.0.1, hours: x, instructions: x, role: pointOfContact}}
resources:
  facilities:
    type: collection
    title: Facilities
    description: the demo facilities
    keywords: [demo]
    extents:
      spatial: {{bbox: [55, 25, 56, 26], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: id
"""


@pytest.fixture(scope="module")
def pygeoapi(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("pygeoapi")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, data=DATA / "facilities.geojson"))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(folder / "o.yml")}
    cli = Path(sys.executable).parent / "pygeoapi"
    subprocess.run(
        [str(cli), "openapi", "generate", str(config), "--output-file", str(folder / "o.yml")],
        env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/collections", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("pygeoapi did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_pygeoapi_is_paged_and_equals_the_source(pygeoapi):
    asked: list[httpx.URL] = []
    api = Client(pygeoapi, progress=False)
    api.http.session.event_hooks["request"] = [lambda request: asked.append(request.url)]
    frame = api.read("facilities")  # 5,000 matched, no download offered: pages of 500
    formats = {url.params.get("f") for url in asked if url.path.endswith("/items")}
    assert "parquet" not in formats
    # ten full pages; the last links `next` to an empty one, where the client stops
    assert len([u for u in asked if u.path.endswith("/items")]) == 11
    source = source_frame("facilities")
    # pygeoapi's queryables say `opened` is a string (no format): it stays text
    assert list(frame["opened"]) == list(source.sort_index().opened.dt.strftime("%Y-%m-%d"))
    assert_matches_source(frame.drop(columns="opened"), source.drop(columns="opened"))
    assert str(frame["capacity"].dtype) == "Int64"  # its queryables do say integer


def test_pygeoapi_selections_and_problems(pygeoapi):
    api = Client(pygeoapi, progress=False)
    box = (55.38, 25.30, 55.42, 25.34)
    got = api.read("facilities", bbox=box)
    source = source_frame("facilities")
    want = source[source.geometry.intersects(shapely.box(*box))]
    assert sorted(got.index) == sorted(want.index) and len(got) > 0
    assert len(api.read("facilities", limit=1200)) == 1200  # over its page maximum
    with pytest.raises(BadRequest) as error:  # forced, where no download exists
        api.read("facilities", how="download")
    assert "format" in error.value.detail.lower()  # its OGC exception's description
    listing = api.collections()
    assert list(listing.index) == ["facilities"] and listing.loc["facilities", "title"]


def test_stops_on_an_empty_page_that_still_links_next():
    def script(path: str, query: dict[str, str]):
        if not path.endswith("/items"):
            return 404, {}, {"code": "NotFound", "description": "no queryables here"}
        offset = int(query.get("offset", 0))
        fids = [i for i in range(offset + 1, offset + 4) if i <= 6]
        base = f"{server.url}/collections/things"  # every page, empty ones too, links next
        return 200, {"Content-Type": "application/geo+json"}, items_page(base, fids, offset + 3)

    with stand_in(script) as server:
        frame = Client(server.url, progress=False).read("things")
        items = [q for p, q in server.requests if p.endswith("/items")]
    assert list(frame.index) == [1, 2, 3, 4, 5, 6]
    assert list(frame["name"]) == [f"مكان {i}" for i in range(1, 7)]
    assert list(frame["rank"]) == list(range(1, 7))
    assert len(items) == 3  # two full pages, then the empty one: no fourth request


def test_a_count_the_pages_contradict_raises_incomplete():
    def script(path: str, query: dict[str, str]):
        if not path.endswith("/items"):
            return 404, {}, {"title": "Not Found", "detail": "none"}
        offset = int(query.get("offset", 0))
        fids = [i for i in range(offset + 1, offset + 4) if i <= 5]
        following = offset + 3 if offset + 3 < 5 else None
        base = f"{server.url}/collections/things"
        return 200, {}, items_page(base, fids, following, numberMatched=8)

    with stand_in(script) as server, pytest.raises(Incomplete) as error:
        Client(server.url, progress=False).read("things")
    assert "read 5 features where the server matched 8" in error.value.detail
