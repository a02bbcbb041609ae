"""Finding datasets: text (Arabic and English), keywords, extent, owner; ranked; access-safe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Entity, Role, Visibility
from gis_service.domain.search import fold, tokens
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import CQL2_DATA, DATA, STORES, issue_key, make_settings

# (id, source, title, title_ar, keywords, description, owner, visibility)
DATASETS = [
    (
        "schools",
        DATA / "facilities.geojson",
        "Public schools",
        "المدارس الحكومية",
        ["education", "تعليم"],
        "Every public school in Sharjah.",
        "moe",
        Visibility.PUBLIC,
    ),
    (
        "clinics",
        DATA / "facilities.geojson",
        "Health clinics",
        "العيادات الصحية",
        ["health", "صحة"],
        "Clinics and hospitals; schools nearby are in another layer.",
        "health",
        Visibility.PUBLIC,
    ),
    (
        "coverage",
        DATA / "coverage.geojson",
        "Telecom coverage",
        "تغطية الشبكة",
        ["telecom", "network"],
        "Mobile network coverage polygons.",
        "tra",
        Visibility.PUBLIC,
    ),
    (
        "world",
        CQL2_DATA / "ne110m4cql2.gpkg",
        "Countries of the world",
        None,
        ["boundaries"],
        "Natural Earth countries.",
        "space",
        Visibility.PUBLIC,
    ),
    (
        "secret-schools",
        DATA / "facilities.geojson",
        "Private school inspections",
        "تفتيش المدارس",
        ["education"],
        "Inspection results.",
        "moe",
        Visibility.PRIVATE,
    ),
]


@pytest.fixture(scope="module", params=STORES)
def searcher(request, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(request.param, request, tmp_path_factory.mktemp("search"))
    store = open_store(settings)
    for entity in ("moe", "health", "tra", "space"):
        store.catalog.add_entity(Entity(id=entity, name_en=entity, name_ar=entity))
    for cid, path, title, title_ar, keywords, description, owner, visibility in DATASETS:
        import_file(
            store,
            path,
            IngestOptions(
                collection_id=cid,
                title=title,
                title_ar=title_ar,
                keywords=keywords,
                description=description,
                layer="ne_110m_admin_0_countries" if path.suffix == ".gpkg" else None,
            ),
        )
        store.catalog.set_access(cid, AccessPolicy(owner=owner, visibility=visibility))
    auth = issue_key(store, "moe", Role.VIEWER)
    with TestClient(create_app(settings)) as client:
        yield client, auth
    store.close()


def ids(client: TestClient, query: str, headers: dict[str, str] | None = None) -> list[str]:
    response = client.get(f"/collections?{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberReturned"] == len(body["collections"])
    return [c["id"] for c in body["collections"]]


def test_english_text_ranks_title_above_description(searcher):
    client, _ = searcher
    assert ids(client, "q=schools") == ["schools", "clinics"]
    assert ids(client, "q=SCHOOL") == ["schools", "clinics"]  # case and prefix
    assert ids(client, "q=network coverage") == ["coverage"]
    assert ids(client, "q=school telecom") == []  # every word must match


def test_arabic_text_without_harakat_or_article(searcher):
    client, _ = searcher
    assert ids(client, "q=المدارس") == ["schools"]
    assert ids(client, "q=مدارس") == ["schools"]
    assert ids(client, "q=المَدارِس") == ["schools"]  # harakat typed by the user
    assert ids(client, "q=الصحيه") == ["clinics"]  # ta marbuta typed as ha
    assert ids(client, "q=صحه") == ["clinics"]  # keyword


def test_keywords_bbox_and_owner(searcher):
    client, headers = searcher
    assert ids(client, "keywords=education") == ["schools"]
    assert ids(client, "keywords=Education", headers) == ["schools", "secret-schools"]
    assert ids(client, "keywords=تعليم,education") == ["schools"]
    assert ids(client, "bbox=-10,40,10,50") == ["world"]
    assert set(ids(client, "bbox=55.3,25.2,55.5,25.4")) == {
        "schools",
        "clinics",
        "coverage",
        "world",
    }
    assert ids(client, "bbox=170,-20,-170,-10") == ["world"]  # across the antimeridian (Fiji)
    assert ids(client, "owner=tra") == ["coverage"]
    assert ids(client, "owner=moe&q=school", headers) == [
        "secret-schools",
        "schools",
    ]  # exact word first


def test_private_datasets_stay_hidden(searcher):
    client, headers = searcher
    assert "secret-schools" not in ids(client, "q=inspection")
    assert ids(client, "q=inspection", headers) == ["secret-schools"]
    assert ids(client, "q=تفتيش") == []


def test_no_search_lists_everything_visible(searcher):
    client, headers = searcher
    assert set(ids(client, "")) == {d[0] for d in DATASETS} - {"secret-schools"}
    assert set(ids(client, "", headers)) == {d[0] for d in DATASETS}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("q=%20%2C", "q"),
        ("q=...", "q"),
        ("keywords=,", "keywords"),
        ("bbox=1,2,3", "bbox"),
        ("owner=", "owner"),
        ("sort=title", "sort"),
    ],
)
def test_bad_search_is_400(searcher, query, parameter):
    client, _ = searcher
    response = client.get(f"/collections?{query}")
    assert response.status_code == 400
    assert parameter in response.json()["detail"]


def test_folding():
    assert fold("Écoles") == "ecoles"
    assert fold("أُمّ") == "ام"
    assert tokens("الشارقة ٢٠٢٤") == ["الشارقه", "شارقه", "2024"]
