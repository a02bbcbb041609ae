"""OGC API Common: landing page, conformance, the API definition and its documentation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...rasters.description import CONFORMANCE as COVERAGES_CONFORMANCE
from ...tiles.metadata import TILESETS_REL, TILING_SCHEMES_REL
from ..features.queryables import FILTER_CONFORMANCE
from ..maps.routes import MAPS_CONFORMANCE
from ..plumbing.deps import PrincipalDep, SettingsDep, StoreDep, visible_collections
from ..plumbing.encoding import dumps
from ..plumbing.html.render import render
from ..plumbing.links import HTML, JSON, OPENAPI, base_url, link, self_and_alternate
from ..plumbing.negotiation import BASE_PARAMS, READ, Format, negotiate, reject_unknown
from ..processes.routes import CONFORMANCE as PROCESSES_CONFORMANCE
from ..processes.routes import JOB_LIST_REL, PROCESSES_REL
from ..styles.routes import STYLES_CONFORMANCE
from ..tiles.tilesets import TILES_CONFORMANCE
from .openapi.document import build_openapi

router = APIRouter()

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    *FILTER_CONFORMANCE,
    *TILES_CONFORMANCE,
    *STYLES_CONFORMANCE,
    *PROCESSES_CONFORMANCE,
    *COVERAGES_CONFORMANCE,
    *MAPS_CONFORMANCE,
]


@router.api_route("/", methods=READ, summary="Landing page", tags=["Capabilities"])
async def landing(request: Request, settings: SettingsDep) -> Response:
    fmt = negotiate(request)
    reject_unknown(request, BASE_PARAMS)
    base = base_url(request, settings)
    links = [
        *self_and_alternate(f"{base}/", {}, JSON, fmt is Format.HTML),
        link(f"{base}/api", "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
        link(f"{base}/api.html", "service-doc", HTML, "the API documentation"),
        link(f"{base}/conformance", "conformance", JSON, "conformance classes implemented"),
        link(f"{base}/collections", "data", JSON, "the collections"),
        link(f"{base}/tiles", TILESETS_REL, JSON, "vector tiles of every visible layer"),
        link(f"{base}/tileMatrixSets", TILING_SCHEMES_REL, JSON, "the tile matrix sets"),
        link(f"{base}/processes", PROCESSES_REL, JSON, "the spatial analysis processes"),
        link(f"{base}/jobs", JOB_LIST_REL, JSON, "your jobs"),
    ]
    body = {"title": settings.title, "description": settings.description, "links": links}
    if fmt is Format.HTML:
        return render(request, "landing.html", doc=body)
    return Response(dumps(body), media_type=JSON)


@router.api_route(
    "/conformance", methods=READ, summary="Conformance classes", tags=["Capabilities"]
)
async def conformance(request: Request, settings: SettingsDep) -> Response:
    fmt = negotiate(request)
    reject_unknown(request, BASE_PARAMS)
    body = {
        "conformsTo": CONFORMANCE,
        "links": self_and_alternate(
            f"{base_url(request, settings)}/conformance", {}, JSON, fmt is Format.HTML
        ),
    }
    if fmt is Format.HTML:
        return render(request, "conformance.html", doc=body)
    return Response(dumps(body), media_type=JSON)


@router.api_route(
    "/api", methods=READ, summary="The API definition (OpenAPI 3.0)", tags=["Capabilities"]
)
async def api_definition(
    request: Request, settings: SettingsDep, store: StoreDep, principal: PrincipalDep
) -> Response:
    if request.query_params.get("f") == "html":
        return await api_documentation(request)
    reject_unknown(request, BASE_PARAMS)
    # the API definition names collections: it shows each caller only what they may see
    infos = [info for info, _policy in await visible_collections(store, principal)]
    document = build_openapi(base_url(request, settings), settings, infos)
    return Response(dumps(document), media_type=OPENAPI)


@router.api_route(
    "/api.html", methods=READ, summary="Interactive API documentation", tags=["Capabilities"]
)
async def api_documentation(request: Request) -> HTMLResponse:
    return render(request, "swagger.html")


@router.api_route("/health", methods=READ, summary="Liveness check", tags=["Capabilities"])
async def health() -> Response:
    """Touches no store (it answers while the database is away): the process is alive.

    Also the baseline the benchmarks compare every workload against."""
    return Response(b'{"status":"ok"}', media_type=JSON)


@router.api_route("/ready", methods=READ, summary="Readiness check", tags=["Capabilities"])
async def ready(store: StoreDep) -> Response:
    """Whether the store can answer now: 503 (StoreUnavailable) while it cannot."""
    await store.ready_async()
    return Response(b'{"status":"ready"}', media_type=JSON)
