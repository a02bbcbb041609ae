"""OGC API - Coverages routes: `/collections/{id}/coverage` (GeoTIFF or PNG) and its
domain set and range type; the same access rule (hidden = 404), versions and audit as
items. Reading and encoding run in a worker thread (GDAL), never on the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...domain.collection import CollectionInfo
from ...errors import InvalidParameter, NotACoverage
from ...rasters.description import domain_set, range_type
from ..audit.record import note
from ..plumbing.deps import ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.links import JSON
from ..plumbing.negotiation import READ, reject_unknown
from .params import PARAMS, parse_coverage

router = APIRouter(tags=["Coverages"])
GEOTIFF = "image/tiff; application=geotiff"
PNG = "image/png"
_FORMATS = {"tif": GEOTIFF, "tiff": GEOTIFF, "geotiff": GEOTIFF, "png": PNG}


def _coverage_of(info: CollectionInfo) -> CollectionInfo:
    if not info.is_coverage or info.raster is None:
        raise NotACoverage(info.id)
    return info


def _format(request: Request) -> str:
    """`f=tif|png`, else the Accept header, else GeoTIFF (the native encoding)."""
    asked = request.query_params.get("f")
    if asked is not None:
        media = _FORMATS.get(asked.lower())
        if media is None:
            raise InvalidParameter("f", f"{asked[:20]!r} is not one of tif, png")
        return media
    accept = request.headers.get("accept", "")
    return PNG if "image/png" in accept and "image/tiff" not in accept else GEOTIFF


@router.api_route(
    "/collections/{collectionId}/coverage", methods=READ, summary="The coverage (GeoTIFF or PNG)"
)
async def coverage(
    request: Request, resolved: ResolvedDep, store: StoreDep, settings: SettingsDep
) -> Response:
    from ...rasters.coverage import EmptyCoverage, encode_geotiff, encode_png, read_coverage

    info = _coverage_of(resolved.info)
    reject_unknown(request, PARAMS)
    media = _format(request)
    assert info.raster is not None
    asked = parse_coverage(request.query_params, info.raster)

    def work() -> bytes | None:
        try:
            data = read_coverage(store, info, asked, settings.coverage_max_cells)
        except EmptyCoverage:
            return None
        return encode_png(data) if media == PNG else encode_geotiff(data)

    body = await run_in_threadpool(work)
    note(request, info.id, "coverage", 0)
    if body is None:
        return Response(status_code=204)
    extension = "png" if media == PNG else "tif"
    version = asked.version or info.version
    headers = {"Content-Disposition": f'inline; filename="{info.id}-v{version}.{extension}"'}
    return Response(body, media_type=media, headers=headers)


@router.api_route(
    "/collections/{collectionId}/coverage/domainset",
    methods=READ,
    summary="The coverage's grid (CIS JSON domain set)",
)
async def domainset(request: Request, resolved: ResolvedDep, store: StoreDep) -> Response:
    info = await _described(request, resolved.info, store)
    assert info.raster is not None
    note(request, info.id, "domainset", 0)
    return Response(dumps(domain_set(info.raster)), media_type=JSON)


@router.api_route(
    "/collections/{collectionId}/coverage/rangetype",
    methods=READ,
    summary="The coverage's bands (CIS JSON range type)",
)
async def rangetype(request: Request, resolved: ResolvedDep, store: StoreDep) -> Response:
    info = await _described(request, resolved.info, store)
    assert info.raster is not None
    note(request, info.id, "rangetype", 0)
    return Response(dumps(range_type(info.raster)), media_type=JSON)


async def _described(request: Request, info: CollectionInfo, store) -> CollectionInfo:
    """The collection at the `version` asked for (its own by default), a coverage."""
    from ...domain.query import parse_version
    from ...rasters.files import raster_info_of

    _coverage_of(info)
    reject_unknown(request, {"f", "version"})
    if request.query_params.get("f") not in (None, "json"):
        raise InvalidParameter("f", "the domain set and range type are JSON")
    version = parse_version(request.query_params.get("version"))
    if version is None:
        return info
    return await run_in_threadpool(raster_info_of, store, info, version)
