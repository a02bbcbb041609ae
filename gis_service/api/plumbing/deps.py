"""FastAPI dependencies as `Annotated` aliases: settings, store, the resolved collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ...domain.access import (
    ANONYMOUS,
    AccessPolicy,
    Principal,
    can_read,
    secret_matches,
    split_token,
)
from ...domain.collection import CollectionInfo
from ...errors import CollectionNotFound, NotACoverage, Unauthorized
from ...settings import Settings
from ...store.base import Store
from .oidc import OidcVerifier


# `async` because they do no I/O: FastAPI would otherwise send each to the thread pool.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def _authenticate(store: Store, authorization: str | None, oidc: OidcVerifier | None) -> Principal:
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    parts = split_token(token) if scheme.lower() == "bearer" else None
    if parts is None and oidc is not None and scheme.lower() == "bearer" and token.count(".") == 2:
        return oidc.principal(token, store)
    if parts is None:
        raise Unauthorized("the Authorization header must be 'Bearer <API key or token>'")
    key = store.catalog.find_key(parts[0])
    if key is None or key.revoked is not None or not secret_matches(parts[1], key.secret_hash):
        raise Unauthorized("the API key is unknown or revoked")
    return Principal(entity=key.entity, role=key.role, key_id=key.id)


# The dependencies below take only the request (and memoise on request.state) rather than
# depending on each other: FastAPI's per-node solving cost a quarter of the CPU of a
# single-feature read (py-spy, W2 in bench/README.md).


async def get_principal(request: Request) -> Principal:
    """Who is asking; no key at all is anonymous, a bad key is a 401."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    store: Store = request.app.state.store
    authorization = request.headers.get("authorization")
    oidc: OidcVerifier | None = request.app.state.oidc
    if not authorization:
        principal = ANONYMOUS  # no store call, so no trip to the thread pool
    elif oidc is not None and authorization.count(".") == 2:
        # a token may need the provider's keys fetched over the network: never on the loop
        principal = await run_in_threadpool(_authenticate, store, authorization, oidc)
    else:
        principal = await store.call(_authenticate, store, authorization, oidc)
    request.state.principal = principal  # for the audit record
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Resolved:
    """A collection the caller may see, with the policy that let them."""

    info: CollectionInfo
    policy: AccessPolicy


async def get_resolved(request: Request) -> Resolved:
    """Resolving the id once, here, answers 404 for every route below it, absent or hidden."""
    known: Resolved | None = getattr(request.state, "resolved", None)
    if known is not None:
        return known
    principal = await get_principal(request)
    collection_id: str = request.path_params["collectionId"]
    store: Store = request.app.state.store
    info, policy = await store.resolve_async(collection_id)
    if not can_read(principal, policy):
        raise CollectionNotFound(collection_id)  # hidden is indistinguishable from absent
    if info.is_coverage and _features_only(request):
        raise NotACoverage(collection_id, features=True)
    request.state.resolved = resolved = Resolved(info, policy)
    return resolved


#: Paths below /collections/{collectionId} that only a collection of features has.
FEATURES_ONLY = ("/items", "/queryables", "/tiles", "/styles", "/changes")


def _features_only(request: Request) -> bool:
    """Whether the route serves features (a raster collection answers 404 there)."""
    route = request.scope.get("route")
    template: str = getattr(route, "path", "")
    rest = template.removeprefix("/collections/{collectionId}")
    return rest.startswith(FEATURES_ONLY)


async def get_collection(request: Request) -> CollectionInfo:
    return (await get_resolved(request)).info


@dataclass(frozen=True)
class CollectionRead:
    """What a read of one collection needs, from one dependency (the hot GET routes)."""

    info: CollectionInfo
    store: Store
    settings: Settings


async def get_collection_read(request: Request) -> CollectionRead:
    info = (await get_resolved(request)).info
    return CollectionRead(info, request.app.state.store, request.app.state.settings)


ResolvedDep = Annotated[Resolved, Depends(get_resolved)]
CollectionDep = Annotated[CollectionInfo, Depends(get_collection)]
CollectionReadDep = Annotated[CollectionRead, Depends(get_collection_read)]


def _visible(store: Store, principal: Principal) -> list[tuple[CollectionInfo, AccessPolicy]]:
    policies = store.catalog.access_map()
    out = []
    for info in store.list_collections():
        policy = policies.get(info.id, AccessPolicy())
        if can_read(principal, policy):
            out.append((info, policy))
    return out


async def visible_collections(
    store: Store, principal: Principal
) -> list[tuple[CollectionInfo, AccessPolicy]]:
    """The collections this caller may see: the same rule as for one collection."""
    return await store.call(_visible, store, principal)
