"""A collection's map styles (OGC API - Styles conventions, MapLibre style encoding).

`default` always exists: the style its owner saved under that id, or the one computed
from the geometry type. Reading follows the collection's access (hidden is 404); saving
and deleting need write access to the collection, as editing features does.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.access import Principal, can_write
from ...domain.collection import CollectionInfo
from ...errors import Forbidden, InvalidParameter, NotFound, Unauthorized
from ...styles.defaults import DEFAULT_ID, default_style
from ...styles.legend import label_property, legend
from ...styles.validate import InvalidStyle, validate_style
from ..audit.record import note
from ..plumbing.deps import PrincipalDep, Resolved, ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.limits import read_body
from ..plumbing.links import JSON, base_url, link
from ..plumbing.negotiation import READ, reject_unknown

router = APIRouter(tags=["Styles"])
MAPBOX_STYLE = "application/vnd.mapbox.style+json"
STYLE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STYLE_PARAMS = frozenset({"f"})
STYLES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/manage-styles",
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/mapbox-styles",
]


def _style_id(text: str) -> str:
    if not STYLE_ID.match(text):
        raise InvalidParameter("styleId", "1 to 64 letters, digits, '-' or '_'")
    return text


def _check_f(request: Request) -> None:
    reject_unknown(request, STYLE_PARAMS)
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "mapbox"):
        raise InvalidParameter("f", f"{f!r} is not one of json, mapbox")


def served(base: str, info: CollectionInfo, style: dict[str, Any]) -> dict[str, Any]:
    """The stored style as clients draw it: its source is this service's TileJSON, its
    metadata the legend and the labels' property (for pages that draw labels in HTML)."""
    tilejson = f"{base}/collections/{info.id}/tiles/WebMercatorQuad/tilejson.json"
    metadata = dict(style.get("metadata") or {})
    metadata["gis-service:legend"] = legend(style)
    metadata["gis-service:label"] = label_property(style)
    sources = {info.id: {"type": "vector", "url": tilejson}}
    return {**style, "sources": sources, "metadata": metadata}


def _stored(store: Any, info: CollectionInfo, style_id: str) -> dict[str, Any] | None:
    text = store.catalog.get_style(info.id, style_id)
    if text is not None:
        return orjson.loads(text)
    return default_style(info) if style_id == DEFAULT_ID else None


@router.api_route("/collections/{collectionId}/styles", methods=READ, summary="A layer's styles")
async def list_styles(
    request: Request, resolved: ResolvedDep, store: StoreDep, settings: SettingsDep
) -> Response:
    _check_f(request)
    info = resolved.info
    ids = sorted({DEFAULT_ID, *await store.call(store.catalog.style_ids, info.id)})
    url = f"{base_url(request, settings)}/collections/{info.id}/styles"
    styles = [
        {
            "id": sid,
            "title": sid,
            "links": [link(f"{url}/{sid}?f=mapbox", "stylesheet", MAPBOX_STYLE, "MapLibre style")],
        }
        for sid in ids
    ]
    body = {"default": DEFAULT_ID, "styles": styles, "links": [link(url, "self", JSON)]}
    return Response(dumps(body), media_type=JSON)


@router.api_route(
    "/collections/{collectionId}/styles/{styleId}", methods=READ, summary="A style (MapLibre)"
)
async def get_style(
    request: Request, resolved: ResolvedDep, store: StoreDep, settings: SettingsDep, styleId: str
) -> Response:
    _check_f(request)
    style_id = _style_id(styleId)
    style = await store.call(_stored, store, resolved.info, style_id)
    if style is None:
        raise NotFound(f"collection {resolved.info.id!r} has no style {style_id!r}")
    body = served(base_url(request, settings), resolved.info, style)
    return Response(dumps(body), media_type=MAPBOX_STYLE)


def _require_writer(principal: Principal, resolved: Resolved) -> None:
    if principal.entity is None:
        raise Unauthorized("saving a style needs an API key (Authorization: Bearer ...)")
    if not can_write(principal, resolved.policy):
        raise Forbidden("saving a style needs write access to the collection")


@router.put("/collections/{collectionId}/styles/{styleId}", summary="Save a style")
async def put_style(
    request: Request,
    resolved: ResolvedDep,
    store: StoreDep,
    principal: PrincipalDep,
    styleId: str,
) -> Response:
    reject_unknown(request, frozenset())
    style_id = _style_id(styleId)
    _require_writer(principal, resolved)
    body = await read_body(request, request.app.state.settings.style_body_max_bytes)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidStyle("body", f"not JSON ({exc})") from None
    info = resolved.info
    style = validate_style(doc, info.id, {p.name for p in info.properties})
    text = dumps(style).decode()
    created = await store.call(store.catalog.put_style, info.id, style_id, text, principal.entity)
    note(request, info.id, "style", 0)
    return Response(status_code=201 if created else 204)


@router.delete("/collections/{collectionId}/styles/{styleId}", summary="Delete a saved style")
async def delete_style(
    request: Request,
    resolved: ResolvedDep,
    store: StoreDep,
    principal: PrincipalDep,
    styleId: str,
) -> Response:
    """Deleting `default` returns the collection to its computed default style."""
    reject_unknown(request, frozenset())
    style_id = _style_id(styleId)
    _require_writer(principal, resolved)
    if not await store.call(store.catalog.delete_style, resolved.info.id, style_id):
        raise NotFound(f"collection {resolved.info.id!r} has no saved style {style_id!r}")
    note(request, resolved.info.id, "style", 0)
    return Response(status_code=204)
