"""OGC API Features: the collections list and each collection's metadata."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.access import AccessPolicy
from ...domain.collection import CollectionInfo
from ...domain.crs import ADVERTISED_CRS
from ...domain.query import parse_bbox
from ...domain.search import parse_search, rank
from ...rasters.description import (
    COVERAGE_REL,
    DOMAINSET_REL,
    RANGETYPE_REL,
    crs_uri,
    domain_set,
    range_type,
)
from ...rasters.tiles import MAP_TILESETS_REL
from ...styles.defaults import STYLES_REL
from ...tiles.metadata import TILESETS_REL
from ..audit.record import note
from ..plumbing.deps import PrincipalDep, ResolvedDep, SettingsDep, StoreDep, visible_collections
from ..plumbing.encoding import dumps
from ..plumbing.html.render import render
from ..plumbing.links import CRS84, GEOJSON, HTML, JSON, base_url, link, self_and_alternate
from ..plumbing.negotiation import BASE_PARAMS, READ, Format, negotiate, reject_unknown
from .downloads import download_links
from .queryables import QUERYABLES_REL, SCHEMA_JSON

router = APIRouter(tags=["Collections"])
GEOTIFF = "image/tiff; application=geotiff"
PNG = "image/png"
SEARCH_PARAMS = frozenset({"q", "bbox", "keywords", "owner"})
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


def collection_document(
    base: str, info: CollectionInfo, policy: AccessPolicy, *, html: bool
) -> dict[str, Any]:
    url = f"{base}/collections/{info.id}"
    extent: dict[str, Any] = {}
    if info.bbox is not None:
        extent["spatial"] = {"bbox": [list(info.bbox)], "crs": CRS84}
    if info.temporal_extent is not None:
        extent["temporal"] = {"interval": [list(info.temporal_extent)], "trs": GREGORIAN}
    doc: dict[str, Any] = {
        "id": info.id,
        "title": info.title,
        "description": info.description,
        "itemType": "feature",
        "kind": info.kind.value,  # "features" or "coverage" (a raster)
        "crs": list(ADVERTISED_CRS),  # Part 2; any other EPSG code PROJ knows works too
        "storageCrs": CRS84,
        "links": [
            *self_and_alternate(url, {}, JSON, html),
            link(f"{url}/items?f=json", "items", GEOJSON, "the features as GeoJSON"),
            link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
            *download_links(f"{url}/items", {}),
            link(f"{url}/queryables", QUERYABLES_REL, SCHEMA_JSON, "what a filter may name"),
            link(f"{url}/tiles", TILESETS_REL, JSON, "the features as vector tiles"),
            link(f"{url}/styles", STYLES_REL, JSON, "map styles"),
        ],
    }
    if info.raster is not None:
        _as_coverage(doc, url, info)
    if extent:
        doc["extent"] = extent
    for name in ("title_ar", "license", "attribution"):
        if getattr(info, name):
            doc[name] = getattr(info, name)
    if info.keywords:
        doc["keywords"] = info.keywords
    if not info.is_coverage:
        doc["itemCount"] = info.feature_count  # the published version's, as pages show
    if policy.owner is not None:
        doc["owner"] = policy.owner  # the entity that publishes it
        doc["visibility"] = policy.visibility.value
    return doc


def _as_coverage(doc: dict[str, Any], url: str, info: CollectionInfo) -> None:
    """A raster collection: links to its coverage, domain set and range type instead of
    items (OGC API - Coverages /req/coverage/collection-links), its native CRS."""
    assert info.raster is not None
    del doc["itemType"]
    doc["crs"] = [crs_uri(info.raster.crs)]
    doc["storageCrs"] = crs_uri(info.raster.crs)
    doc["links"] = [
        *doc["links"][:2],
        link(f"{url}/coverage?f=tif", COVERAGE_REL, GEOTIFF, "the coverage as GeoTIFF"),
        link(f"{url}/coverage?f=png", COVERAGE_REL, PNG, "the coverage as PNG"),
        link(f"{url}/coverage/domainset", DOMAINSET_REL, JSON, "the coverage's grid"),
        link(f"{url}/coverage/rangetype", RANGETYPE_REL, JSON, "the coverage's bands"),
        link(f"{url}/map/tiles", MAP_TILESETS_REL, JSON, "the coverage as map tiles"),
    ]
    doc["domainSet"] = domain_set(info.raster)
    doc["rangeType"] = range_type(info.raster)


@router.api_route("/collections", methods=READ, summary="The feature collections")
async def collections(
    request: Request, settings: SettingsDep, store: StoreDep, principal: PrincipalDep
) -> Response:
    fmt = negotiate(request)
    reject_unknown(request, BASE_PARAMS | SEARCH_PARAMS)
    qp = request.query_params
    search = parse_search(
        qp.get("q"), qp.get("keywords"), parse_bbox(qp.get("bbox")), qp.get("owner")
    )
    base = base_url(request, settings)
    html = fmt is Format.HTML
    visible = await visible_collections(store, principal)
    if search.active:  # only among what this caller may see
        found = rank(search, [(info, policy.owner) for info, policy in visible])
        visible = [visible[i] for i in found]
    infos = [info for info, _policy in visible]
    body = {
        "links": self_and_alternate(
            f"{base}/collections", {k: v for k, v in qp.items() if k != "f"}, JSON, html
        ),
        "numberReturned": len(visible),
        "collections": [
            # Part 2: nested collections point at the one global list (`#/crs`)
            collection_document(base, info, policy, html=False) | {"crs": ["#/crs"]}
            for info, policy in visible
        ],
        "crs": list(ADVERTISED_CRS),
    }
    if html:
        return render(request, "collections.html", doc=body, infos=infos)
    return Response(dumps(body), media_type=JSON)


@router.api_route("/collections/{collectionId}", methods=READ, summary="One collection's metadata")
async def collection(request: Request, resolved: ResolvedDep, settings: SettingsDep) -> Response:
    fmt = negotiate(request)
    reject_unknown(request, BASE_PARAMS)
    html = fmt is Format.HTML
    info = resolved.info
    note(request, info.id, "metadata", 0)
    body = collection_document(base_url(request, settings), info, resolved.policy, html=html)
    if html:
        return render(request, "collection.html", doc=body, info=info)
    return Response(dumps(body), media_type=JSON)
