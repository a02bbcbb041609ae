"""Two stores, one API: the same requests get byte-identical answers from both."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import load_demo

REQUESTS = [
    "/collections",
    "/collections/facilities",
    "/collections/facilities/items?limit=50",
    "/collections/facilities/items?bbox=55.38,25.30,55.42,25.34&limit=1000",
    "/collections/facilities/items?category=clinic&entity=sha&limit=7",
    "/collections/facilities/items?datetime=2000-01-01T00:00:00Z/2001-12-31T00:00:00Z",
    "/collections/facilities/items?offset=4990",
    "/collections/facilities/items/777",
    "/collections/districts/items?bbox=55.45,25.25,55.47,25.27",
    "/collections/coverage/items?datetime=../2025-01-01T00:00:00Z&limit=200",
    "/collections/countries/items?bbox=170,-60,-170,80&limit=100",
    "/collections/catalogue/items?limit=100",
    "/collections/catalogue/items?bbox=0,0,1,1",
    "/collections/places/items?limit=300",
    "/collections/nope/items",
    "/collections/facilities/items?bbox=1,2,3",
]


@pytest.fixture(scope="module")
def clients(postgis_url, tmp_path_factory):
    settings = [
        Settings(store=str(tmp_path_factory.mktemp("parity") / "store")),
        Settings(store=postgis_url, postgis_schema=f"p_{uuid.uuid4().hex[:12]}"),
    ]
    for each in settings:
        store = open_store(each)
        try:
            load_demo(store)
        finally:
            store.close()
    with TestClient(create_app(settings[0])) as gpkg, TestClient(create_app(settings[1])) as pg:
        yield gpkg, pg


def normalised(body: bytes) -> bytes:
    """The answer without its generation time, the one thing allowed to differ."""
    body = re.sub(rb'"timeStamp":"[^"]*"', b'"timeStamp":""', body)
    return re.sub(rb'"updated":"[^"]*"', b'"updated":""', body)


@pytest.mark.parametrize("path", REQUESTS)
def test_both_stores_answer_identically(clients, path):
    gpkg, pg = clients
    a, b = gpkg.get(path), pg.get(path)
    assert a.status_code == b.status_code
    assert a.headers["content-type"] == b.headers["content-type"]
    assert a.headers.get("etag") == b.headers.get("etag")
    assert normalised(a.content) == normalised(b.content)
