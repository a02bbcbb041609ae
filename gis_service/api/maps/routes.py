"""Map tiles of a raster collection (OGC API - Maps, map tilesets; OGC API - Tiles PNG):
`/collections/{id}/map/tiles[/{tileMatrixSetId}[/{tileMatrix}/{tileRow}/{tileCol}]]`.

Access is decided first, as for items (hidden = 404). A tile is a pure function of the
collection's version and COG file, the tile and the style, so its strong ETag is known
before anything is read; rendered tiles share the vector tiles' memory cache
(`app.state.tiles.cache`, one `GIS_TILE_CACHE_MB` budget) and their Cache-Control rule.
Reading and encoding run in a worker thread (GDAL), never on the event loop.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.collection import CollectionInfo
from ...rasters import colormaps
from ...rasters.tiles import FORMATS, TileStyle
from ...tiles import metadata
from ...tiles.grids import Grid, grid, grids
from ...tiles.service import Tile, TileService
from ..audit.record import note
from ..plumbing.deps import ResolvedDep, SettingsDep, StoreDep, get_resolved
from ..plumbing.encoding import dumps, etag_matches
from ..plumbing.links import JSON, base_url, link, with_params
from ..plumbing.negotiation import BASE_PARAMS, READ, reject_unknown
from ..tiles.tiles import cache_control
from .params import STYLE_PARAMS, TILE_PARAMS, coverage_of, media_type, parse_style, style_params

router = APIRouter(tags=["Maps"])
TILE = "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
MAPS_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
]


@router.api_route(
    "/collections/{collectionId}/map/tiles" + TILE, methods=READ, summary="A map tile"
)
async def map_tile(request: Request) -> Response:
    resolved = await get_resolved(request)
    info = coverage_of(resolved.info)
    reject_unknown(request, TILE_PARAMS)
    path = request.path_params
    tms = grid(path["tileMatrixSetId"])
    z, row, col = tms.check(path["tileMatrix"], path["tileRow"], path["tileCol"])
    style = parse_style(request, info, media_type(request))
    assert info.raster is not None
    key = ("map", info.id, info.version, info.raster.file, tms.id, z, row, col, style.key())
    note(request, info.id, "map-tile", 0)
    service: TileService = request.app.state.tiles
    tile = service.cached(key)
    etag = tile.etag if tile is not None else service.etag(key)
    headers = {"ETag": etag, **cache_control([resolved.policy])}
    headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Accept"]))
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if tile is None:
        store = request.app.state.store
        body = await to_thread.run_sync(_render, store, info, tms, (z, row, col), style)
        tile = Tile(body, etag)
        service.cache.put(key, tile, max(len(body), 64))
    if not tile.body:
        return Response(status_code=204, headers=headers)
    return Response(tile.body, media_type=style.media, headers=headers)


def _render(store, info: CollectionInfo, tms: Grid, zrc: tuple[int, int, int], style) -> bytes:
    from ...rasters import cog_env, cog_path
    from ...rasters.tiles import render_tile

    return render_tile(cog_path(store, info), tms.id, *zrc, style, cog_env(store))


@router.api_route("/collections/{collectionId}/map/tiles", methods=READ, summary="Map tilesets")
async def map_tilesets(request: Request, resolved: ResolvedDep, settings: SettingsDep) -> Response:
    info = coverage_of(resolved.info)
    reject_unknown(request, STYLE_PARAMS | BASE_PARAMS)
    parse_style(request, info)
    params = style_params(request)
    base = base_url(request, settings)
    url = f"{base}/collections/{info.id}/map/tiles"
    tilesets = [
        {
            "title": f"{info.title} ({g.id})",
            "dataType": "map",
            "crs": g.crs_uri,
            "tileMatrixSetURI": g.uri,
            "links": _links(url, g.id, base, params),
        }
        for g in grids()
    ]
    body = {"tilesets": tilesets, "links": [link(with_params(url, params), "self", JSON)]}
    return Response(dumps(body), media_type=JSON)


@router.api_route(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}",
    methods=READ,
    summary="A map tileset's metadata (and the legend of its style)",
)
async def map_tileset(
    request: Request,
    resolved: ResolvedDep,
    settings: SettingsDep,
    store: StoreDep,
    tileMatrixSetId: str,
) -> Response:
    info = coverage_of(resolved.info)
    reject_unknown(request, STYLE_PARAMS | BASE_PARAMS)
    tms = grid(tileMatrixSetId)
    style = parse_style(request, info)
    native = await to_thread.run_sync(_native_zoom, store, info, tms)
    base = base_url(request, settings)
    url = f"{base}/collections/{info.id}/map/tiles"
    doc = metadata.tileset(info.title, tms, [], info.bbox)
    doc["dataType"] = "map"
    doc["mediaTypes"] = list(FORMATS.values())
    doc["layers"] = [
        {
            "id": info.id,
            "title": info.title,
            "dataType": "map",
            "minTileMatrix": "0",
            "maxTileMatrix": str(native),  # cells as large as a pixel; deeper is magnified
        }
    ]
    doc["style"] = _style_document(info, style)
    doc["links"] = _links(url, tms.id, base, style_params(request))
    doc["links"].append(link(f"{base}/collections/{info.id}", "collection", JSON, info.title))
    note(request, info.id, "map-tileset", 0)
    return Response(dumps(doc), media_type=JSON)


def _native_zoom(store, info: CollectionInfo, tms: Grid) -> int:
    """The shallowest tile matrix whose pixels are no larger than the raster's cells."""
    from rio_tiler.io import Reader

    from ...rasters import open_cog

    with open_cog(store, info) as ds, Reader(None, dataset=ds, tms=tms.tms) as src:
        return int(src.maxzoom)


def _style_document(info: CollectionInfo, style: TileStyle) -> dict[str, Any]:
    """What the tiles draw, and for a ramp its legend (value -> colour, evenly spaced)."""
    assert info.raster is not None
    bands = [info.raster.bands[i - 1] for i in style.bands]
    out: dict[str, Any] = {"bands": [b.name for b in bands]}
    if style.rescale is not None:
        out["rescale"] = list(style.rescale)
    if style.colormap is not None:
        out["colormap"] = style.colormap
        low, high = style.rescale or (0.0, 255.0)
        out["legend"] = colormaps.legend(style.colormap, low, high)
        if bands[0].unit:
            out["unit"] = bands[0].unit
    return out


def _links(url: str, tms_id: str, base: str, params: dict[str, str]) -> list[dict[str, Any]]:
    tileset = f"{url}/{tms_id}"
    out = [
        link(with_params(tileset, params), "self", JSON, "this tileset"),
        link(f"{base}/tileMatrixSets/{tms_id}", metadata.TILING_SCHEME_REL, JSON),
    ]
    for name, media in FORMATS.items():
        template = with_params(
            f"{tileset}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", {**params, "f": name}
        )
        item = link(template, "item", media, f"a map tile ({name.upper()})")
        item["templated"] = True
        out.append(item)
    return out
