"""Owners' admins read the audit record of their entity's collections, and its usage.

What a request does is recorded by `record`; this reads it back, never another entity's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.access import Principal, Role
from ...domain.query import parse_datetime, parse_limit
from ...errors import Forbidden, Unauthorized
from ...store.base import Store
from ..plumbing.deps import PrincipalDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.links import JSON
from ..plumbing.negotiation import reject_unknown

router = APIRouter(tags=["Sharing"])


def _owned(store: Store, principal: Principal, collection: str | None) -> list[str]:
    if principal.entity is None:
        raise Unauthorized("the audit record needs an API key")
    if principal.role is not Role.ADMIN:
        raise Forbidden("only an entity's admins read the audit record")
    owned = sorted(
        cid
        for cid, policy in store.catalog.access_map().items()
        if policy.owner == principal.entity
    )
    return [c for c in owned if c == collection] if collection else owned


def _window(request: Request) -> tuple[str | None, str | None]:
    interval = parse_datetime(request.query_params.get("datetime"))
    if interval is None:
        return None, None
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        interval.start.strftime(fmt) if interval.start else None,
        interval.end.strftime(fmt) if interval.end else None,
    )


def _read(store: Store, principal: Principal, request: Request) -> dict[str, Any]:
    qp = request.query_params
    collections = _owned(store, principal, qp.get("collection"))
    since, until = _window(request)
    limit = parse_limit(qp.get("limit"), 100, 10_000)
    store_flush(request)
    events = store.catalog.audit(collections, since=since, until=until, limit=limit)
    return {"events": [e.__dict__ for e in events]}


def store_flush(request: Request) -> None:
    """Reads of the record see everything recorded so far in this process."""
    request.app.state.audit.flush()


@router.get("/audit", summary="Who read or changed your entity's collections")
async def audit(request: Request, principal: PrincipalDep, store: StoreDep) -> Response:
    reject_unknown(request, frozenset({"collection", "datetime", "limit"}))
    return Response(dumps(await store.call(_read, store, principal, request)), media_type=JSON)


def _usage(store: Store, principal: Principal, request: Request) -> dict[str, Any]:
    collections = _owned(store, principal, request.query_params.get("collection"))
    since, until = _window(request)
    store_flush(request)
    rows = store.catalog.usage(collections, since=since, until=until)
    return {
        "usage": [
            {"day": d, "collection": c, "entity": e, "requests": n, "features": f}
            for d, c, e, n, f in rows
        ]
    }


@router.get("/audit/usage", summary="Data exchanges per collection, entity and day")
async def usage(request: Request, principal: PrincipalDep, store: StoreDep) -> Response:
    reject_unknown(request, frozenset({"collection", "datetime"}))
    return Response(dumps(await store.call(_usage, store, principal, request)), media_type=JSON)
