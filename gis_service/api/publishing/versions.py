"""Versions of a collection, reading an old one, rolling back, and the changes feed."""

from __future__ import annotations

from dataclasses import asdict

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...domain.query import parse_version, version_number
from ...errors import InvalidParameter, VersionNotFound
from ...store.base import Actor
from ..audit.record import note
from ..features.collections import collection_document
from ..plumbing.deps import PrincipalDep, ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps, feature_dict, geometry_fragments
from ..plumbing.links import GEOJSON, JSON, base_url, link
from ..plumbing.negotiation import reject_unknown
from .editing import require_writer

router = APIRouter(tags=["Versions"])


@router.get("/collections/{collectionId}/versions", summary="The collection's versions")
async def versions(
    request: Request, resolved: ResolvedDep, store: StoreDep, settings: SettingsDep
) -> Response:
    reject_unknown(request, frozenset())
    base = f"{base_url(request, settings)}/collections/{resolved.info.id}"
    records = await store.call(store.catalog.versions, resolved.info.id)
    sizes = await run_in_threadpool(store.version_disk_sizes, resolved.info.id, records)
    out = []
    for record in records:
        doc = {k: v for k, v in asdict(record).items() if k not in ("location", "info")}
        doc["report"] = orjson.loads(record.report) if record.report else None
        doc["bytes"] = sizes.get(record.version)  # None: pruned (the record stays)
        doc["links"] = (
            [
                link(
                    f"{base}/items?version={record.version}",
                    "items",
                    GEOJSON,
                    f"the features of version {record.version}",
                )
            ]
            if record.pruned is None
            else []
        )
        out.append(doc)
    note(request, resolved.info.id, "versions", 0)
    body = {
        "collection": resolved.info.id,
        "current": resolved.info.version,
        "bytes": sum(sizes.values()),  # on disk, for every version kept
        "versions": out,
    }
    return Response(dumps(body), media_type=JSON)


@router.post(
    "/collections/{collectionId}/versions/{version}/restore",
    summary="Make an old version current again (as a new version)",
)
async def restore(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    version: str,
) -> Response:
    require_writer(principal, resolved)
    number = version_number(version)
    if number is None:  # the path names no version that could exist
        raise VersionNotFound(resolved.info.id, repr(version[:40]))
    actor = Actor(f"restore version {number}", principal.entity, principal.key_id)
    info = await run_in_threadpool(
        store.restore_version, collection_id=resolved.info.id, version=number, actor=actor
    )
    note(request, info.id, "restore", info.feature_count)
    return Response(
        dumps(collection_document(base_url(request, settings), info, resolved.policy, html=False)),
        media_type=JSON,
    )


@router.get(
    "/collections/{collectionId}/changes",
    summary="Features inserted, updated and deleted since a version",
)
async def changes(request: Request, resolved: ResolvedDep, store: StoreDep) -> Response:
    reject_unknown(request, frozenset({"since"}))
    since = parse_version(request.query_params.get("since"), "since")
    if since is None:
        raise InvalidParameter("since", "required: the version your copy holds")
    found = await run_in_threadpool(store.changes, collection_id=resolved.info.id, since=since)
    body = {
        "collection": resolved.info.id,
        "since": found.since,
        "version": found.version,
        "inserted": [
            feature_dict(f, g)
            for f, g in zip(found.inserted, geometry_fragments(found.inserted), strict=True)
        ],
        "updated": [
            feature_dict(f, g)
            for f, g in zip(found.updated, geometry_fragments(found.updated), strict=True)
        ],
        "deleted": found.deleted,
    }
    note(request, resolved.info.id, "changes", len(found.inserted) + len(found.updated))
    return Response(dumps(body), media_type=JSON)
