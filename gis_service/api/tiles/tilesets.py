"""Tile matrix sets, tileset lists, tileset metadata and TileJSON (OGC API - Tiles 1.0).

Every document here is JSON; the links are absolute and a tile template carries the
request's own query (a filter given to the tileset reaches every tile it links to).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.collection import CollectionInfo
from ...domain.query import parse_datetime
from ...errors import NotFound
from ...tiles import metadata
from ...tiles.grids import grid, grids
from ...tiles.service import TileService
from ..plumbing.deps import PrincipalDep, ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.links import JSON, base_url, link, with_params
from ..plumbing.negotiation import BASE_PARAMS, READ, reject_unknown
from .params import DATASET_PARAMS, TILE_PARAMS, collections_param, tile_params
from .tiles import chosen_collections

router = APIRouter(tags=["Tiles"])
TILES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
TMS_JSON = "application/json"
TILEJSON = "application/json"
TILE_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


def _json(body: dict[str, Any]) -> Response:
    return Response(dumps(body), media_type=JSON)


@router.api_route("/tileMatrixSets", methods=READ, summary="The tile matrix sets offered")
async def tile_matrix_sets(request: Request, settings: SettingsDep) -> Response:
    reject_unknown(request, BASE_PARAMS)
    base = base_url(request, settings)
    sets = [
        {
            "id": g.id,
            "title": g.tms.title,
            "uri": g.uri,
            "links": [link(f"{base}/tileMatrixSets/{g.id}", "self", TMS_JSON, g.id)],
        }
        for g in grids()
    ]
    return _json({"tileMatrixSets": sets, "links": [link(f"{base}/tileMatrixSets", "self", JSON)]})


@router.api_route(
    "/tileMatrixSets/{tileMatrixSetId}", methods=READ, summary="A tile matrix set definition"
)
async def tile_matrix_set(request: Request, tileMatrixSetId: str) -> Response:
    reject_unknown(request, BASE_PARAMS)
    return _json(grid(tileMatrixSetId).document())


def _tileset_links(
    url: str, tms_id: str, base: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    tileset = f"{url}/{tms_id}"
    template = f"{tileset}/{TILE_TEMPLATE}"
    item = link(with_params(template, params), "item", metadata.MVT, "a vector tile")
    item["templated"] = True
    out = [
        link(with_params(tileset, params), "self", JSON, "this tileset"),
        link(f"{base}/tileMatrixSets/{tms_id}", metadata.TILING_SCHEME_REL, TMS_JSON),
        item,
    ]
    if tms_id == "WebMercatorQuad":
        out.append(
            link(
                with_params(f"{tileset}/tilejson.json", params),
                "describedby",
                TILEJSON,
                "TileJSON 3.0",
            )
        )
    return out


def _list(url: str, base: str, title: str, params: dict[str, str]) -> dict[str, Any]:
    tilesets = [
        {
            "title": f"{title} ({g.id})",
            "dataType": "vector",
            "crs": g.crs_uri,
            "tileMatrixSetURI": g.uri,
            "links": _tileset_links(url, g.id, base, params),
        }
        for g in grids()
    ]
    return {"tilesets": tilesets, "links": [link(with_params(url, params), "self", JSON)]}


async def _generalised(request: Request, info: CollectionInfo, tms_id: str) -> list[int]:
    service: TileService = request.app.state.tiles
    return await service.generalised(info, grid(tms_id))


@router.api_route("/collections/{collectionId}/tiles", methods=READ, summary="A layer's tilesets")
async def collection_tilesets(
    request: Request, resolved: ResolvedDep, settings: SettingsDep
) -> Response:
    params = tile_params(request, resolved.info, TILE_PARAMS | BASE_PARAMS)
    base = base_url(request, settings)
    url = f"{base}/collections/{resolved.info.id}/tiles"
    return _json(_list(url, base, resolved.info.title, params))


@router.api_route(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    methods=READ,
    summary="A layer's tileset metadata",
)
async def collection_tileset(
    request: Request, resolved: ResolvedDep, settings: SettingsDep, tileMatrixSetId: str
) -> Response:
    info = resolved.info
    params = tile_params(request, info, TILE_PARAMS | BASE_PARAMS)
    tms = grid(tileMatrixSetId)
    base = base_url(request, settings)
    doc = metadata.tileset(info.title, tms, [info], info.bbox)
    doc["generalisation"] = metadata.generalisation(info, await _generalised(request, info, tms.id))
    doc["links"] = _tileset_links(f"{base}/collections/{info.id}/tiles", tms.id, base, params)
    doc["links"].append(link(f"{base}/collections/{info.id}", "collection", JSON, info.title))
    return _json(doc)


@router.api_route(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
    methods=READ,
    summary="A layer's TileJSON 3.0",
)
async def collection_tilejson(
    request: Request, resolved: ResolvedDep, settings: SettingsDep, tileMatrixSetId: str
) -> Response:
    info = resolved.info
    params = tile_params(request, info, TILE_PARAMS | BASE_PARAMS)
    _webmercator(tileMatrixSetId)
    url = f"{base_url(request, settings)}/collections/{info.id}/tiles/{tileMatrixSetId}"
    template = with_params(f"{url}/{{z}}/{{y}}/{{x}}", params)
    return _json(metadata.tilejson(info.title, template, [info], info.bbox))


@router.api_route("/tiles", methods=READ, summary="The dataset's tilesets (every visible layer)")
async def dataset_tilesets(request: Request, settings: SettingsDep) -> Response:
    params = _dataset_params(request)
    base = base_url(request, settings)
    return _json(_list(f"{base}/tiles", base, settings.title, params))


@router.api_route(
    "/tiles/{tileMatrixSetId}", methods=READ, summary="The dataset's tileset metadata"
)
async def dataset_tileset(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    principal: PrincipalDep,
    tileMatrixSetId: str,
) -> Response:
    params = _dataset_params(request)
    tms = grid(tileMatrixSetId)
    infos = [info for info, _p in await chosen_collections(request, store, principal)]
    base = base_url(request, settings)
    doc = metadata.tileset(settings.title, tms, infos, metadata.union(infos))
    doc["links"] = _tileset_links(f"{base}/tiles", tms.id, base, params)
    return _json(doc)


@router.api_route(
    "/tiles/{tileMatrixSetId}/tilejson.json", methods=READ, summary="The dataset's TileJSON 3.0"
)
async def dataset_tilejson(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    principal: PrincipalDep,
    tileMatrixSetId: str,
) -> Response:
    params = _dataset_params(request)
    _webmercator(tileMatrixSetId)
    infos = [info for info, _p in await chosen_collections(request, store, principal)]
    url = f"{base_url(request, settings)}/tiles/{tileMatrixSetId}"
    template = with_params(f"{url}/{{z}}/{{y}}/{{x}}", params)
    return _json(metadata.tilejson(settings.title, template, infos, metadata.union(infos)))


def _dataset_params(request: Request) -> dict[str, str]:
    reject_unknown(request, DATASET_PARAMS | BASE_PARAMS)
    parse_datetime(request.query_params.get("datetime"))
    collections_param(request)
    return {k: v for k, v in request.query_params.items() if k != "f"}


def _webmercator(tms_id: str) -> None:
    """TileJSON's {z}/{x}/{y} mean WebMercatorQuad; other sets have tileset metadata."""
    grid(tms_id)
    if tms_id != "WebMercatorQuad":
        raise NotFound(f"TileJSON describes WebMercatorQuad tiles only, not {tms_id}")
