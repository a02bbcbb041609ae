"""Who may see a collection: its owner's admins read and change the policy here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.access import AccessPolicy, Grant, Principal, Visibility, can_administer
from ...domain.values import refuse_nul
from ...errors import Forbidden, InvalidParameter, Unauthorized
from ...store.base import Store
from ..audit.record import note
from ..plumbing.bodies import parse_model
from ..plumbing.deps import PrincipalDep, ResolvedDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.limits import sharing_body
from ..plumbing.links import JSON
from ..plumbing.negotiation import reject_unknown

router = APIRouter(tags=["Sharing"])


class AccessBody(BaseModel):
    """What an owner may set; the owner itself is not changed here."""

    model_config = ConfigDict(extra="forbid")
    visibility: Visibility
    entities: dict[str, Grant] = Field(default_factory=dict)


def _document(policy: AccessPolicy) -> bytes:
    return dumps(
        {
            "owner": policy.owner,
            "visibility": policy.visibility.value,
            "entities": {k: v.value for k, v in sorted(policy.entities.items())},
        }
    )


def _may_see_policy(principal: Principal, policy: AccessPolicy) -> bool:
    return principal.entity is not None and principal.entity == policy.owner


@router.get("/collections/{collectionId}/access", summary="Who may see this collection")
async def get_access(request: Request, resolved: ResolvedDep, principal: PrincipalDep) -> Response:
    reject_unknown(request, frozenset())
    if principal.entity is None:  # no key: say so (401), as for the keys
        raise Unauthorized("sharing settings need an API key (Authorization: Bearer ...)")
    if not _may_see_policy(principal, resolved.policy):
        raise Forbidden("only the owning entity's members see its sharing settings")
    return Response(_document(resolved.policy), media_type=JSON)


def _store_policy(store: Store, collection_id: str, policy: AccessPolicy) -> None:
    for entity in policy.entities:
        refuse_nul("entities", entity)  # PostgreSQL text holds none: a 400, not a 500
    unknown = [e for e in policy.entities if store.catalog.get_entity(e) is None]
    if unknown:
        raise InvalidParameter("entities", f"unknown entity {unknown[0]!r}")
    store.catalog.set_access(collection_id, policy)


@router.put("/collections/{collectionId}/access", summary="Change who may see this collection")
async def put_access(
    request: Request, resolved: ResolvedDep, principal: PrincipalDep, store: StoreDep
) -> Response:
    reject_unknown(request, frozenset())
    if principal.entity is None:
        raise Unauthorized("changing sharing settings needs an API key (Authorization: Bearer ...)")
    if not can_administer(principal, resolved.policy):
        raise Forbidden(f"only admins of {resolved.policy.owner or 'the owner'} may change this")
    body = parse_model(AccessBody, await sharing_body(request))
    policy = AccessPolicy(
        owner=resolved.policy.owner, visibility=body.visibility, entities=dict(body.entities)
    )
    policy.entities.pop(policy.owner or "", None)  # the owner needs no grant
    await store.call(_store_policy, store, resolved.info.id, policy)
    note(request, resolved.info.id, "access", 0)
    return Response(_document(policy), media_type=JSON)
