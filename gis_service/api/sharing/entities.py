"""Entities and their API keys: an entity's admins issue and revoke its keys."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from ...domain.access import Principal, Role, new_key
from ...errors import Forbidden, NotFound, Unauthorized
from ...store.base import Store
from ..plumbing.bodies import parse_model
from ..plumbing.deps import PrincipalDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.limits import sharing_body
from ..plumbing.links import JSON
from ..plumbing.negotiation import reject_unknown

router = APIRouter(tags=["Sharing"])


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def _require_admin(principal: Principal, entity_id: str) -> None:
    """No credentials at all is a 401 (say who you are); the wrong ones a 403."""
    if principal.entity is None:
        raise Unauthorized("managing keys needs an admin's API key (Authorization: Bearer ...)")
    if principal.entity != entity_id or principal.role is not Role.ADMIN:
        raise Forbidden(f"only admins of {entity_id!r} manage its keys")


@router.get("/entities", summary="The entities that share data here")
async def list_entities(request: Request, store: StoreDep) -> Response:
    reject_unknown(request, frozenset())
    entities = await store.call(store.catalog.list_entities)
    return Response(dumps({"entities": [e.model_dump() for e in entities]}), media_type=JSON)


def _issue(store: Store, entity_id: str, role: Role) -> dict[str, str]:
    if store.catalog.get_entity(entity_id) is None:
        raise NotFound(f"entity {entity_id!r} does not exist")
    key = new_key()
    store.catalog.add_key(
        key_id=key.key_id, entity=entity_id, role=role, secret_hash=key.secret_hash
    )
    return {"id": key.key_id, "entity": entity_id, "role": role.value, "key": key.token}


@router.post("/entities/{entityId}/keys", status_code=201, summary="Issue an API key")
async def issue_key(
    request: Request, entityId: str, principal: PrincipalDep, store: StoreDep
) -> Response:
    reject_unknown(request, frozenset())
    _require_admin(principal, entityId)
    body = parse_model(KeyRequest, await sharing_body(request))
    issued = await store.call(_issue, store, entityId, body.role)
    return Response(dumps(issued), status_code=201, media_type=JSON)


@router.get("/entities/{entityId}/keys", summary="The entity's keys (never their secrets)")
async def list_keys(
    request: Request, entityId: str, principal: PrincipalDep, store: StoreDep
) -> Response:
    reject_unknown(request, frozenset())
    _require_admin(principal, entityId)
    keys = await store.call(store.catalog.list_keys, entityId)
    body = [
        {"id": k.id, "role": k.role.value, "created": k.created, "revoked": k.revoked} for k in keys
    ]
    return Response(dumps({"keys": body}), media_type=JSON)


@router.delete("/entities/{entityId}/keys/{keyId}", status_code=204, summary="Revoke a key")
async def revoke_key(
    request: Request,
    entityId: str,
    keyId: str,
    principal: PrincipalDep,
    store: StoreDep,
) -> Response:
    reject_unknown(request, frozenset())
    _require_admin(principal, entityId)
    key = None if "\x00" in keyId else await store.call(store.catalog.find_key, keyId)
    if key is None or key.entity != entityId:  # a NUL names no key (PostgreSQL binds none)
        raise NotFound(f"key {keyId!r} does not exist")
    await store.call(store.catalog.revoke_key, keyId)
    return Response(status_code=204)
