"""Map styles on both stores: the default per geometry type, saving, checks, legends, who."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings

MAPBOX = "application/vnd.mapbox.style+json"


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict, object]]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    headers = {
        "editor": issue_key(store, "sha", Role.EDITOR),
        "viewer": issue_key(store, "sha", Role.VIEWER),
        "partner": issue_key(store, "police", Role.EDITOR),
        "other": issue_key(store, "civil", Role.ADMIN),
        "anonymous": {},
    }
    for cid, name in (("sites", "facilities"), ("districts", "districts")):
        import_file(store, DATA / f"{name}.geojson", IngestOptions(collection_id=cid))
    store.catalog.set_access(
        "sites",
        AccessPolicy(owner="sha", visibility=Visibility.ENTITIES, entities={"police": Grant.WRITE}),
    )
    store.catalog.set_access(
        "districts", AccessPolicy(owner="sha", visibility=Visibility.AUTHENTICATED)
    )
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, headers, settings


def categories() -> dict:
    return {
        "version": 8,
        "layers": [
            {
                "id": "by-category",
                "type": "circle",
                "minzoom": 6,
                "maxzoom": 20,
                "paint": {
                    "circle-color": [
                        "match",
                        ["get", "category"],
                        "school",
                        "#1f77b4",
                        ["clinic", "hospital"],
                        "#d62728",
                        "#7f7f7f",
                    ],
                    "circle-opacity": 0.8,
                    "circle-stroke-color": "#000",
                },
            },
            {
                "id": "labels",
                "type": "symbol",
                "layout": {"text-field": ["get", "name_ar"], "text-font": ["Noto Sans"]},
                "metadata": {"note": "أسماء المرافق"},
            },
        ],
    }


def test_default_styles_follow_the_geometry_type(client):
    for cid, kinds in (
        ("facilities", ["circle"]),
        ("districts", ["fill", "line"]),
        ("rivers", ["line"]),
    ):
        listing = client.get(f"/collections/{cid}/styles").json()
        assert listing["default"] == "default"
        sheet = listing["styles"][0]["links"][0]
        assert sheet["rel"] == "stylesheet" and sheet["type"] == MAPBOX
        res = client.get(f"/collections/{cid}/styles/default")
        assert res.status_code == 200 and res.headers["content-type"] == MAPBOX
        style = res.json()
        assert style["version"] == 8
        assert [layer["type"] for layer in style["layers"]] == kinds
        assert all(layer["source-layer"] == cid for layer in style["layers"])
        url = style["sources"][cid]["url"]
        assert url.endswith(f"/collections/{cid}/tiles/WebMercatorQuad/tilejson.json")
        legend = style["metadata"]["gis-service:legend"]
        assert len(legend) == 1 and legend[0]["color"].startswith("#")
    links = client.get("/collections/districts").json()["links"]
    assert any(x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/styles" for x in links)


def test_saving_a_style_round_trips_and_survives_a_restart(world):
    client, h, settings = world
    doc = categories()
    res = client.put(
        "/collections/sites/styles/default", content=orjson.dumps(doc), headers=h["editor"]
    )
    assert res.status_code == 201, res.text
    again = client.put("/collections/sites/styles/default", json=doc, headers=h["partner"])
    assert again.status_code == 204, again.text  # a write grant may save too
    style = client.get("/collections/sites/styles/default", headers=h["viewer"]).json()
    assert style["layers"][0]["paint"] == doc["layers"][0]["paint"]
    assert style["layers"][1]["metadata"]["note"] == "أسماء المرافق"
    assert style["metadata"]["gis-service:label"] == "name_ar"
    legend = style["metadata"]["gis-service:legend"]
    assert [(e["label"], e["color"]) for e in legend] == [
        ("school", "#1f77b4"),
        ("clinic, hospital", "#d62728"),
        ("other", "#7f7f7f"),
    ]
    with TestClient(create_app(settings)) as fresh:
        kept = fresh.get("/collections/sites/styles/default", headers=h["viewer"]).json()
        assert kept["layers"] == style["layers"]
    gone = client.delete("/collections/sites/styles/default", headers=h["editor"])
    assert gone.status_code == 204
    back = client.get("/collections/sites/styles/default", headers=h["viewer"]).json()
    assert back["layers"][0]["id"] == "sites-points"  # the computed default again


def test_graduated_classes_and_named_styles(world):
    client, h, _settings = world
    doc = {
        "version": 8,
        "layers": [
            {
                "id": "population",
                "type": "fill",
                "paint": {
                    "fill-color": [
                        "step",
                        ["get", "population"],
                        "#fee5d9",
                        50000,
                        "#fcae91",
                        100000,
                        "#de2d26",
                    ],
                    "fill-outline-color": "#333333",
                    "fill-opacity": 0.6,
                },
            }
        ],
    }
    res = client.put("/collections/districts/styles/population", json=doc, headers=h["editor"])
    assert res.status_code == 201, res.text
    ids = [
        s["id"]
        for s in client.get("/collections/districts/styles", headers=h["other"]).json()["styles"]
    ]
    assert ids == ["default", "population"]
    style = client.get("/collections/districts/styles/population", headers=h["other"]).json()
    legend = [
        (e["label"], e["label_ar"], e["color"]) for e in style["metadata"]["gis-service:legend"]
    ]
    assert legend == [
        ("< 50000", "أقل من 50000", "#fee5d9"),
        ("50000 – 100000", "من 50000 إلى 100000", "#fcae91"),
        ("≥ 100000", "100000 فأكثر", "#de2d26"),
    ]
    assert client.get("/collections/districts/styles/nope", headers=h["other"]).status_code == 404
    assert (
        client.delete("/collections/districts/styles/nope", headers=h["editor"]).status_code == 404
    )


def layer(**changes) -> dict:
    base = {"id": "a", "type": "fill", "paint": {"fill-color": "#123456"}}
    return {"version": 8, "layers": [{**base, **changes}]}


@pytest.mark.parametrize(
    "body, where",
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        ({"version": 7, "layers": []}, "version"),
        ({"version": 8}, "layers"),
        ({"version": 8, "layers": [], "bogus": 1}, "bogus"),
        (layer(type="hillshade"), "layers[0].type"),
        (layer(source="elsewhere"), "layers[0].source"),
        (layer(**{"source-layer": "other"}), "layers[0].source-layer"),
        (layer(paint={"fill-colour": "#fff"}), "layers[0].paint.fill-colour"),
        (layer(paint={"fill-color": "not a colour!"}), "layers[0].paint.fill-color"),
        (layer(paint={"fill-opacity": 2}), "layers[0].paint.fill-opacity"),
        (layer(paint={"fill-color": ["get", "nosuch"]}), "layers[0].paint.fill-color"),
        (layer(paint={"fill-color": ["frobnicate", 1]}), "layers[0].paint.fill-color"),
        (layer(filter=["==", ["get", "nosuch"], 1]), "layers[0].filter[1]"),
        (layer(minzoom=30), "layers[0].minzoom"),
        (layer(minzoom=12, maxzoom=4), "layers[0].minzoom"),
        ({"version": 8, "layers": [layer()["layers"][0]] * 2}, "layers[1].id"),
        ({"version": 8, "sources": {"x": {}}, "layers": layer()["layers"]}, "sources"),
        (layer(layout={"visibility": "sometimes"}), "layers[0].layout.visibility"),
    ],
)
def test_bad_styles_are_400_naming_the_place(world, body, where):
    client, h, _settings = world
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    res = client.put("/collections/districts/styles/default", content=content, headers=h["editor"])
    assert res.status_code == 400, res.text
    problem = res.json()
    assert problem["parameter"] == where, problem
    listed = client.get("/collections/districts/styles", headers=h["editor"]).json()
    assert [s["id"] for s in listed["styles"]] == ["default"]  # nothing was saved
    style = client.get("/collections/districts/styles/default", headers=h["editor"]).json()
    assert style["layers"][0]["id"] == "districts-fill"


@pytest.mark.parametrize(
    "who, status",
    [("editor", 201), ("partner", 201), ("viewer", 403), ("other", 404), ("anonymous", 404)],
)
def test_who_may_save_a_style(world, who, status):
    client, h, _settings = world
    res = client.put("/collections/sites/styles/mine", json=categories(), headers=h[who])
    assert res.status_code == status, res.text


def test_a_style_larger_than_allowed_is_413(world):
    client, h, _settings = world
    doc = layer()
    doc["metadata"] = {"padding": "x" * 300_000}
    res = client.put("/collections/districts/styles/big", json=doc, headers=h["editor"])
    assert res.status_code == 413


def test_styles_conformance_is_declared(client):
    conforms = set(client.get("/conformance").json()["conformsTo"])
    for part in ("core", "manage-styles", "mapbox-styles"):
        assert f"http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/{part}" in conforms
    assert "/collections/{collectionId}/styles/{styleId}" in client.get("/api").json()["paths"]
