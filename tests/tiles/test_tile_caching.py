"""Tiles and who asks, on both stores: fresh after every edit, cacheable only when public,
and a rendered tile never handed to a caller who may not read all of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import STORES, issue_key, make_settings, point_layer
from .mvt import decode, pixel, tile_of

WMQ = "WebMercatorQuad"
LON, LAT = 55.45, 25.3  # inside both generated layers
Z = 12
ROW, COL = tile_of(WMQ, LON, LAT, Z)
POLICIES = {
    "open": AccessPolicy(owner="sha", visibility=Visibility.PUBLIC),
    "shared": AccessPolicy(
        owner="sha", visibility=Visibility.ENTITIES, entities={"police": Grant.WRITE}
    ),
    "secret": AccessPolicy(owner="sha", visibility=Visibility.PRIVATE),
}


@dataclass
class World:
    client: TestClient
    owner: dict[str, str]  # sha's admin: sees everything
    editor: dict[str, str]  # police's editor: may write "shared"
    outsider: dict[str, str]  # civil's admin: sees only "open"


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[World]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    try:
        keys = World(
            client=None,  # type: ignore[arg-type]
            owner=issue_key(store, "sha", Role.ADMIN),
            editor=issue_key(store, "police", Role.EDITOR),
            outsider=issue_key(store, "civil", Role.ADMIN),
        )
        for cid, policy in POLICIES.items():
            path = tmp_path / f"{cid}.geojson"
            layer = point_layer(12, cid, x0=55.40, y0=25.3 + 0.001 * len(cid))
            path.write_bytes(orjson.dumps(layer))
            import_file(store, path, IngestOptions(collection_id=cid))
            store.catalog.set_access(cid, policy)
    finally:
        store.close()
    with TestClient(create_app(settings)) as client:
        keys.client = client
        yield keys


def collection_tile(cid: str) -> str:
    return f"/collections/{cid}/tiles/{WMQ}/{Z}/{ROW}/{COL}"


DATASET_TILE = f"/tiles/{WMQ}/{Z}/{ROW}/{COL}"


def layers(res) -> dict[str, dict[int, dict]]:
    assert res.status_code in (200, 204), res.text
    if res.status_code == 204:
        return {}
    return {
        name: {f["id"]: f for f in layer["features"]} for name, layer in decode(res.content).items()
    }


def feature(name: str, lon: float, lat: float = 25.306) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, "n": 99},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_a_tile_is_fresh_the_moment_an_edit_is_published(world):
    c, h = world.client, world.editor
    url = collection_tile("shared")
    first = c.get(url, headers=h)
    before, etag = layers(first)["shared"], first.headers["etag"]
    assert c.get(url, headers={**h, "If-None-Match": etag}).status_code == 304
    dataset = c.get(DATASET_TILE, headers=h)

    created = c.post("/collections/shared/items", json=feature("جديد", LON), headers=h)
    assert created.status_code == 201, created.text
    fid = int(created.headers["location"].rsplit("/", 1)[1])
    second = c.get(url, headers={**h, "If-None-Match": etag})
    assert second.status_code == 200 and second.headers["etag"] != etag
    after = layers(second)["shared"]
    assert set(after) == set(before) | {fid}
    assert after[fid]["properties"] == {"name": "جديد", "n": 99}
    x, y = pixel(WMQ, Z, ROW, COL, LON, 25.306)
    gx, gy = after[fid]["geometry"]["coordinates"]
    assert abs(gx - x) <= 16 and abs(gy - y) <= 16
    # the dataset tile, holding the layer, is new too
    again = c.get(DATASET_TILE, headers={**h, "If-None-Match": dataset.headers["etag"]})
    assert again.status_code == 200 and fid in layers(again)["shared"]

    moved_to = LON + 0.002
    item_etag = c.get(f"/collections/shared/items/{fid}", headers=h).headers["etag"]
    replaced = c.put(
        f"/collections/shared/items/{fid}",
        json=feature("بدل", moved_to),
        headers={**h, "If-Match": item_etag},
    )
    assert replaced.status_code == 200, replaced.text
    third = c.get(url, headers={**h, "If-None-Match": second.headers["etag"]})
    assert third.status_code == 200
    assert third.headers["etag"] not in (etag, second.headers["etag"])
    moved = layers(third)["shared"][fid]
    assert moved["properties"]["name"] == "بدل"
    assert moved["geometry"]["coordinates"][0] > gx + 16  # drawn where it now is

    item_etag = c.get(f"/collections/shared/items/{fid}", headers=h).headers["etag"]
    gone = c.delete(f"/collections/shared/items/{fid}", headers={**h, "If-Match": item_etag})
    assert gone.status_code == 204
    fourth = c.get(url, headers={**h, "If-None-Match": third.headers["etag"]})
    assert fourth.status_code == 200
    assert set(layers(fourth)["shared"]) == set(before)
    for old in (etag, second.headers["etag"], third.headers["etag"]):
        assert c.get(url, headers={**h, "If-None-Match": old}).status_code == 200
    assert c.get(url, headers={**h, "If-None-Match": fourth.headers["etag"]}).status_code == 304


def test_cache_control_follows_the_collections_visibility(world):
    c = world.client
    public = c.get(collection_tile("open"))
    assert public.status_code == 200
    assert public.headers["cache-control"] == "public, no-cache"
    assert "authorization" not in public.headers.get("vary", "").lower()
    for cid in ("shared", "secret"):
        res = c.get(collection_tile(cid), headers=world.owner)
        assert res.status_code == 200
        assert res.headers["cache-control"] == "private, no-cache"
        assert "authorization" in res.headers["vary"].lower()
    mixed = c.get(DATASET_TILE, headers=world.owner)
    assert set(layers(mixed)) == set(POLICIES)
    assert mixed.headers["cache-control"] == "private, no-cache"
    assert "authorization" in mixed.headers["vary"].lower()
    only_public = c.get(DATASET_TILE + "?collections=open", headers=world.owner)
    assert only_public.headers["cache-control"] == "public, no-cache"
    anonymous = c.get(DATASET_TILE)
    assert set(layers(anonymous)) == {"open"}
    assert anonymous.headers["cache-control"] == "public, no-cache"
    # a 304 carries the same caching rules
    again = c.get(collection_tile("secret"), headers={**world.owner, "If-None-Match": "*"})
    assert again.status_code == 304 and again.headers["cache-control"] == "private, no-cache"


def test_the_cache_never_serves_a_hidden_layer(world):
    c = world.client
    full = c.get(DATASET_TILE, headers=world.owner)
    assert set(layers(full)) == {"open", "shared", "secret"}
    callers = {
        "editor": (world.editor, {"open", "shared"}),
        "outsider": (world.outsider, {"open"}),
        "anonymous": ({}, {"open"}),
    }
    for name, (headers, visible) in callers.items():
        res = c.get(DATASET_TILE, headers=headers)
        assert set(layers(res)) == visible, name
        assert res.headers["etag"] != full.headers["etag"], name
        # the owner's tag names the owner's tile: never a 304 for someone else
        tagged = c.get(DATASET_TILE, headers={**headers, "If-None-Match": full.headers["etag"]})
        assert tagged.status_code == 200 and set(layers(tagged)) == visible, name
        # naming a hidden collection is 404, as for items
        hidden = next(iter(set(POLICIES) - visible))
        assert c.get(f"{DATASET_TILE}?collections={hidden}", headers=headers).status_code == 404
    # a hidden collection's own tile is 404 even when revalidated with the owner's tag
    secret = c.get(collection_tile("secret"), headers=world.owner)
    assert secret.status_code == 200
    for headers in (world.editor, world.outsider, {}):
        for tag in (secret.headers["etag"], "*"):
            res = c.get(collection_tile("secret"), headers={**headers, "If-None-Match": tag})
            assert res.status_code == 404 and not res.content.startswith(b"\x1a")
    # and the owner still gets every layer after the others asked
    assert layers(c.get(DATASET_TILE, headers=world.owner)) == layers(full)


def test_a_changed_grant_changes_the_dataset_tile_at_once(world):
    """Access is decided per request: revoking a grant hides the layer from the next tile,
    whatever was rendered and cached before."""
    c = world.client
    before = c.get(DATASET_TILE, headers=world.editor)
    assert set(layers(before)) == {"open", "shared"}
    body = {"visibility": "private", "entities": {}}
    revoked = c.put("/collections/shared/access", json=body, headers=world.owner)
    assert revoked.status_code == 200, revoked.text
    after = c.get(DATASET_TILE, headers={**world.editor, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert set(layers(after)) == {"open"}
    assert c.get(collection_tile("shared"), headers=world.editor).status_code == 404


def test_no_other_route_has_a_tile_path():
    """The tiles router is matched second (app.ROUTERS): it must not take another's path."""
    from gis_service.api.tiles import tiles
    from gis_service.app import ROUTERS

    patterns = [route.path_regex for route in tiles.router.routes]
    others = [r.path for router in ROUTERS if router is not tiles.router for r in router.routes]
    assert others and not [p for p in others if any(x.match(p) for x in patterns)]
    assert ROUTERS.index(tiles.router) == 1
