"""OGC API Features Part 4: create, replace, update and delete single features.

Every change is checked against the feature's ETag (`If-Match`, required: 428 without it,
412 when stale) under the collection's writer turn, so no edit silently overwrites another.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import orjson
import shapely
import shapely.geometry
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...domain.access import Principal, can_write
from ...domain.collection import CollectionInfo, PropertyType
from ...domain.crs import ServiceCrs, UntransformableGeometry, crs84, resolve_crs
from ...domain.values import feature_id as feature_id_of
from ...domain.values import fits_int64, parse_datetime_text, refuse_nul, storage_datetime
from ...errors import (
    FeatureNotFound,
    Forbidden,
    InvalidParameter,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
)
from ...ingest.validate import check_batch
from ...settings import Settings
from ...store.base import Actor, CollectionWriter, Feature, Store
from ...store.edits import EditBatch, Edited, apply_edits
from ...store.turns import deadline_after
from ..audit.record import note
from ..plumbing.deps import PrincipalDep, Resolved, ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import etag_matches, feature_dict, feature_etag, geometry_fragments
from ..plumbing.limits import feature_body
from ..plumbing.links import base_url

router = APIRouter(tags=["Features"])


def require_writer(principal: Principal, resolved: Resolved) -> None:
    if principal.entity is None:
        raise Unauthorized("editing needs an API key (Authorization: Bearer ...)")
    if not can_write(principal, resolved.policy):
        raise Forbidden("editing this collection needs write access to it")


def _value(name: str, value: Any, kind: PropertyType) -> Any:
    """A JSON value as the store keeps it, or a 400 naming the property."""
    if value is None:
        return None
    if isinstance(value, str):
        refuse_nul(name, value)
    ok = {
        PropertyType.STRING: isinstance(value, str),
        PropertyType.INTEGER: isinstance(value, int)
        and not isinstance(value, bool)
        and fits_int64(value),
        PropertyType.NUMBER: isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value),
        PropertyType.BOOLEAN: isinstance(value, bool),
        PropertyType.DATE: isinstance(value, str),
        PropertyType.DATETIME: isinstance(value, str),
    }[kind]
    try:
        if not ok:
            raise ValueError(value)
        if kind is PropertyType.DATE:
            return date.fromisoformat(value).isoformat()
        if kind is PropertyType.DATETIME:
            return storage_datetime(parse_datetime_text(value))
        return float(value) if kind is PropertyType.NUMBER else value
    except ValueError:
        raise InvalidParameter(name, f"{value!r} is not a valid {kind.value}") from None


def _properties(info: CollectionInfo, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise InvalidParameter("properties", "must be an object")
    kinds = {p.name: p.type for p in info.properties}
    out = {}
    for name, value in given.items():
        if name not in kinds:
            raise InvalidParameter(name, "not a property of this collection")
        out[name] = _value(name, value, kinds[name])
    return out


def body_crs(request: Request) -> ServiceCrs:
    """Part 2: a `Content-Crs: <uri>` request header gives the body's CRS (default CRS84).

    The same CRS names the representation whose ETag `If-Match` carries and the ETag
    answered, so a client working in one CRS keeps matching tags.
    """
    value = request.headers.get("content-crs")
    if value is None:
        return crs84()
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return resolve_crs("Content-Crs", value)


def _geometry(given: Any, crs: ServiceCrs | None = None) -> object | None:
    if given is None:
        return None
    try:
        geom = shapely.geometry.shape(given)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError):
        raise InvalidParameter("geometry", "not a GeoJSON geometry") from None
    if crs is not None and not crs.is_crs84:
        try:
            geom = crs.to_crs84(np.array([geom], dtype=object))[0]
        except UntransformableGeometry:
            raise InvalidParameter(
                "geometry", f"has coordinates outside the area where {crs.uri} is defined"
            ) from None
    checked = check_batch(np.array([geom], dtype=object), first_row=1)
    if checked.rejections:
        raise InvalidParameter("geometry", checked.rejections[0].reason)
    return None if shapely.is_empty(checked.geometries[0]) else checked.geometries[0]


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter("body", f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidParameter("body", "must be a JSON object")
    return body


def _feature_in(
    info: CollectionInfo, raw: bytes, crs: ServiceCrs | None = None
) -> tuple[object | None, dict[str, Any]]:
    body = _body(raw)
    if body.get("type") != "Feature":
        raise InvalidParameter("type", "the body must be a GeoJSON Feature")
    geometry = _geometry(body.get("geometry"), crs)
    return geometry, _properties(info, body.get("properties") or {})


def _etag(feature: Feature, crs: ServiceCrs | None = None) -> str:
    """The ETag of the feature's GeoJSON in `crs` (what a GET with `crs` answers)."""
    return feature_etag(feature_dict(feature, geometry_fragments([feature], crs)[0]))


def _fid(info: CollectionInfo, feature_id: str) -> int:
    fid = feature_id_of(feature_id)
    if fid is None:  # another spelling ('01', ' 1', Arabic-Indic digits) names no feature
        raise FeatureNotFound(info.id, feature_id)
    return fid


def _answer(
    info: CollectionInfo, edited: Edited, status: int, base: str, crs: ServiceCrs
) -> Response:
    """The ETag of the state this edit created (read back before it was published: by
    now another writer may have changed the feature again), in the client's CRS."""
    feature = edited.features[0]
    return Response(
        status_code=status,
        headers={
            "ETag": _etag(feature, crs),
            "Location": f"{base}/collections/{info.id}/items/{feature.fid}",
        },
    )


@router.post("/collections/{collectionId}/items", status_code=201, summary="Add a feature")
async def create_item(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    require_writer(principal, resolved)
    info = resolved.info
    crs = body_crs(request)
    geometry, props = _feature_in(info, await feature_body(request), crs)
    edits = EditBatch(geometries=[geometry], properties=[props], fids=[None])
    actor = Actor("insert", principal.entity, principal.key_id)
    deadline = deadline_after(settings.statement_timeout_ms)  # for the writer's turn
    edited = await run_in_threadpool(
        apply_edits, store, info, lambda _writer: edits, actor, deadline
    )
    note(request, info.id, "insert", 1)
    return _answer(info, edited, 201, base_url(request, settings), crs)


Plan = Callable[[CollectionInfo, Feature, bytes, ServiceCrs], EditBatch]


async def _change(
    request: Request,
    resolved: Resolved,
    principal: Principal,
    store: Store,
    settings: Settings,
    feature_id: str,
    plan: Plan,
) -> Edited:
    """PUT, PATCH and DELETE: If-Match is checked under the collection's writer turn,
    against the feature as the writer copied it (its own connection: no second one)."""
    require_writer(principal, resolved)
    info = resolved.info
    fid = _fid(info, feature_id)
    expected = request.headers.get("if-match")
    if not expected:
        raise PreconditionRequired("send If-Match with the feature's ETag (from a GET)")
    raw = await feature_body(request)
    crs = body_crs(request)

    def check(current: Feature) -> Feature:
        if not etag_matches(expected, _etag(current, crs)):
            raise PreconditionFailed(f"feature {fid} changed since that ETag; GET it again")
        return current

    # A tag stale already is refused without the writer's turn (editors of one feature
    # queue for it); the check that counts is the one under the turn.
    check(await store.get_feature_async(collection=info, fid=fid))  # 404 when not there

    def edits(writer: CollectionWriter) -> EditBatch:
        return plan(info, check(writer.get_feature(fid)), raw, crs)

    actor = Actor(f"{request.method.lower()} feature {fid}", principal.entity, principal.key_id)
    deadline = deadline_after(settings.statement_timeout_ms)  # for the writer's turn
    return await run_in_threadpool(apply_edits, store, info, edits, actor, deadline)


def _replace(
    info: CollectionInfo, current: Feature, raw: bytes, crs: ServiceCrs | None = None
) -> EditBatch:
    geometry, props = _feature_in(info, raw, crs)
    return EditBatch(geometries=[geometry], properties=[props], fids=[current.fid])


def _patch(
    info: CollectionInfo, current: Feature, raw: bytes, crs: ServiceCrs | None = None
) -> EditBatch:
    """JSON merge patch (RFC 7396): given properties replace (null clears), the rest stay."""
    body = _body(raw)
    kinds = {p.name: p.type for p in info.properties}
    merged = {name: _value(name, value, kinds[name]) for name, value in current.properties.items()}
    merged.update(_properties(info, body.get("properties") or {}))
    if "geometry" in body:
        geometry = _geometry(body["geometry"], crs)
    else:
        geometry = shapely.from_wkb(current.wkb) if current.wkb is not None else None
    return EditBatch(geometries=[geometry], properties=[merged], fids=[current.fid])


def _delete(
    info: CollectionInfo, current: Feature, raw: bytes, crs: ServiceCrs | None = None
) -> EditBatch:
    return EditBatch(deletes=[current.fid])


async def _change_and_answer(
    request: Request,
    resolved: Resolved,
    principal: Principal,
    store: Store,
    settings: Settings,
    feature_id: str,
    edit: Plan,
    operation: str,
) -> Response:
    """PUT and PATCH: apply the edit, record it, answer the ETag of what it wrote."""
    edited = await _change(request, resolved, principal, store, settings, feature_id, edit)
    note(request, resolved.info.id, operation, 1)
    base = base_url(request, settings)
    return _answer(resolved.info, edited, 200, base, body_crs(request))


@router.put("/collections/{collectionId}/items/{featureId}", summary="Replace a feature")
async def replace_item(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    featureId: str,
) -> Response:
    args = (request, resolved, principal, store, settings, featureId)
    return await _change_and_answer(*args, _replace, "replace-feature")


@router.patch("/collections/{collectionId}/items/{featureId}", summary="Update a feature")
async def update_item(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    featureId: str,
) -> Response:
    args = (request, resolved, principal, store, settings, featureId)
    return await _change_and_answer(*args, _patch, "update-feature")


@router.delete(
    "/collections/{collectionId}/items/{featureId}", status_code=204, summary="Delete a feature"
)
async def delete_item(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    featureId: str,
) -> Response:
    await _change(request, resolved, principal, store, settings, featureId, _delete)
    note(request, resolved.info.id, "delete-feature", 1)
    return Response(status_code=204)
