"""Vector tiles of one collection and of the whole dataset (every layer the caller may see).

A tile is a pure function of its key (each layer's collection and generation, the tile,
the parameters), so its strong ETag is known before anything is rendered: a revalidation
costs one catalog read. Access is decided first, by the same dependency as items.
"""

from __future__ import annotations

from collections.abc import Hashable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.access import AccessPolicy, Visibility
from ...domain.collection import CollectionInfo
from ...errors import CollectionNotFound
from ...tiles.metadata import MVT
from ...tiles.render import TileSpec
from ...tiles.service import TileService
from ..audit.record import note
from ..plumbing.deps import PrincipalDep, StoreDep, get_resolved, visible_collections
from ..plumbing.encoding import etag_matches
from ..plumbing.negotiation import READ
from .params import collections_param, dataset_spec, tile_spec

router = APIRouter(tags=["Tiles"])
TILE = "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"


def cache_control(policies: list[AccessPolicy]) -> dict[str, str]:
    """Shared caches may keep a tile only when everyone may read all of it; every cache
    asks again each time (`no-cache`), so a new generation shows at once."""
    if all(p.visibility is Visibility.PUBLIC for p in policies):
        return {"Cache-Control": "public, no-cache"}
    return {"Cache-Control": "private, no-cache", "Vary": "Authorization"}


async def answer(
    request: Request,
    infos: list[CollectionInfo],
    policies: list[AccessPolicy],
    spec: TileSpec,
    params: Hashable,
) -> Response:
    """The tile from the cache or rendered; the caller has passed the access decision."""
    service: TileService = request.app.state.tiles
    key = service.key(infos, spec, params)
    tile = service.cached(key)
    etag = tile.etag if tile is not None else service.etag(key)
    headers = {"ETag": etag, **cache_control(policies)}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if tile is None:
        tile = await service.tile(infos, spec, key)
    if not tile.body:
        return Response(status_code=204, headers=headers)
    return Response(tile.body, media_type=MVT, headers=headers)


# The resolved collection comes from `get_resolved` itself, not as a dependency: FastAPI's
# solving of one cost a tenth of a cached tile's time.
@router.api_route("/collections/{collectionId}/tiles" + TILE, methods=READ, summary="A vector tile")
async def collection_tile(request: Request) -> Response:
    resolved = await get_resolved(request)
    spec, params = tile_spec(request, resolved.info)
    note(request, resolved.info.id, "tile", 0)
    return await answer(request, [resolved.info], [resolved.policy], spec, params)


@router.api_route("/tiles" + TILE, methods=READ, summary="A vector tile of every visible layer")
async def dataset_tile(request: Request, store: StoreDep, principal: PrincipalDep) -> Response:
    spec, params = dataset_spec(request)
    chosen = await chosen_collections(request, store, principal)
    infos = [info for info, _policy in chosen]
    return await answer(request, infos, [policy for _info, policy in chosen], spec, params)


async def chosen_collections(
    request: Request, store, principal
) -> list[tuple[CollectionInfo, AccessPolicy]]:
    """The visible collections, or those `collections=` names (a hidden one is 404)."""
    visible = [
        (info, policy)
        for info, policy in await visible_collections(store, principal)
        if not info.is_coverage  # rasters have map tiles of their own, not vector tiles
    ]
    names = collections_param(request)
    if names is None:
        return visible
    by_id = {info.id: (info, policy) for info, policy in visible}
    for name in names:
        if name not in by_id:
            raise CollectionNotFound(name)
    return [by_id[name] for name in names]
