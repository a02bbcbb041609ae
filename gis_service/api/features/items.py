"""OGC API Features: a collection's items (paged, filtered) and a single item."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from ...domain.collection import CollectionInfo, equality_parameters
from ...domain.crs import ServiceCrs, output_crs, parse_bbox_crs
from ...domain.filters import FILTER_PARAMS, parse_filter
from ...domain.query import (
    Cursor,
    FeatureQuery,
    parse_datetime,
    parse_equals,
    parse_limit,
    parse_offset,
    parse_sortby,
    parse_version,
)
from ...domain.values import feature_id as feature_id_of
from ...errors import FeatureNotFound, InvalidParameter, VersionGone
from ...settings import Settings
from ...store.base import Feature, FeaturePage
from ...store.retention import CursorLeases
from ..audit.record import note
from ..plumbing.deps import CollectionReadDep
from ..plumbing.encoding import dumps, etag_matches, feature_dict, feature_etag, geometry_fragments
from ..plumbing.html.render import render
from ..plumbing.links import GEOJSON, JSON, base_url, link, self_and_alternate, with_params
from ..plumbing.negotiation import DOWNLOAD_FORMATS, READ, Format, negotiate, reject_unknown
from .downloads import download, download_links
from .shaping import SHAPING_PARAMS, parse_shaping

router = APIRouter(tags=["Features"])
CRS_PARAMS = frozenset({"crs", "bbox-crs"})  # Part 2
ITEMS_PARAMS = (
    frozenset({"f", "limit", "bbox", "datetime", "cursor", "offset", "version", "sortby"})
    | CRS_PARAMS
    | SHAPING_PARAMS
    | FILTER_PARAMS
)
GEOJSON_HEADERS = {"Content-Crs": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"}


def crs_headers(crs: ServiceCrs) -> dict[str, str]:
    """Part 2 /req/crs/ogc-crs-header: every GeoJSON answer names its CRS."""
    return {"Content-Crs": f"<{crs.uri}>"}


def parse_query(request: Request, info: CollectionInfo, settings: Settings) -> FeatureQuery:
    """Every items parameter checked before the store sees anything."""
    filters = {p.name for p in equality_parameters(info)}
    reject_unknown(request, ITEMS_PARAMS | filters)
    qp = request.query_params
    query = FeatureQuery(
        limit=parse_limit(qp.get("limit"), settings.default_limit, settings.max_limit),
        bbox=parse_bbox_crs(qp.get("bbox"), qp.get("bbox-crs")),
        interval=parse_datetime(qp.get("datetime")),
        equals=parse_equals(info, {k: v for k, v in qp.items() if k in filters}),
        cursor=Cursor.decode(qp["cursor"]) if "cursor" in qp else None,
        offset=parse_offset(qp.get("offset")),
        version=parse_version(qp.get("version")),
        sortby=parse_sortby(info, qp.get("sortby")),
        filter=parse_filter(qp.get("filter"), qp.get("filter-lang"), qp.get("filter-crs"), info),
    )
    if query.cursor is not None and query.offset:
        raise InvalidParameter("offset", "cannot be combined with cursor")
    _pin(query, info)
    return query


def _pin(query: FeatureQuery, info: CollectionInfo) -> None:
    """The generation this read (and every page after it) stays on: the one its cursor
    names, else the one asked for, else the current one as this request resolved it.

    Every write publishes a new generation; pages of several would skip or repeat
    features. The stores read a pinned version that is still current as they read the
    current one (no extra round trip).
    """
    pinned = query.cursor.version if query.cursor is not None else None
    if pinned is not None:
        if query.version is not None and query.version != pinned:
            raise InvalidParameter(
                "cursor", f"belongs to version {pinned}, not to version {query.version}"
            )
        query.version = pinned
    elif query.version is None and info.version:
        query.version = info.version


def _cursor(feature: Feature, query: FeatureQuery, *, after: bool) -> Cursor:
    """A position in the page order: the id, plus the sort values when sorted."""
    keys = tuple(feature.properties.get(k.name) for k in query.sortby)
    return Cursor(after=after, fid=feature.fid, keys=keys, version=query.version)


def _page_links(
    url: str, params: dict[str, str], page: FeaturePage, query: FeatureQuery, html: bool
) -> list[dict[str, Any]]:
    links = self_and_alternate(url, params, GEOJSON, html)
    kept = {k: v for k, v in params.items() if k not in ("cursor", "offset")}
    nav_type = "text/html" if html else GEOJSON
    if html:
        kept["f"] = "html"
    feats = page.features
    if query.offset and not query.cursor:
        # A client paging by offset keeps offsets; everyone else gets keyset cursors.
        if query.version is not None:
            kept["version"] = str(query.version)  # the generation these offsets count in
        if page.has_next:
            links.append(
                link(
                    with_params(url, {**kept, "offset": str(query.offset + query.limit)}),
                    "next",
                    nav_type,
                    "next page",
                )
            )
        if page.has_prev:
            prev = max(query.offset - query.limit, 0)
            links.append(
                link(
                    with_params(url, {**kept, "offset": str(prev)}),
                    "prev",
                    nav_type,
                    "previous page",
                )
            )
        return links
    if page.has_next and feats:
        token = _cursor(feats[-1], query, after=True).encode()
        links.append(
            link(with_params(url, {**kept, "cursor": token}), "next", nav_type, "next page")
        )
    if page.has_prev:
        if feats:
            token = _cursor(feats[0], query, after=False).encode()
        else:
            held = query.cursor or Cursor(after=False, fid=0)
            token = Cursor(False, held.fid, held.keys, query.version).encode()
        links.append(
            link(with_params(url, {**kept, "cursor": token}), "prev", nav_type, "previous page")
        )
    return links


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.api_route(
    "/collections/{collectionId}/items", methods=READ, summary="The collection's features"
)
async def items(request: Request, read: CollectionReadDep) -> Response:
    info, store, settings = read.info, read.store, read.settings
    fmt = negotiate(request, downloads=True)
    query = parse_query(request, info, settings)
    shaping = parse_shaping(request, info)
    # The HTML map is drawn in CRS84, so `crs` (checked all the same) applies to GeoJSON.
    crs = output_crs(request.query_params.get("crs"))
    if fmt in DOWNLOAD_FORMATS:
        return await download(request, info, store, query, shaping, fmt.value, crs)
    url = f"{base_url(request, settings)}/collections/{info.id}/items"
    params = {k: v for k, v in request.query_params.items() if k != "f"}
    try:
        page = await store.query_features_async(collection=info, query=query)
    except VersionGone as gone:
        if query.cursor is None and not query.offset:
            raise
        first = {k: v for k, v in params.items() if k not in ("cursor", "offset", "version")}
        raise VersionGone(info.id, gone.extra["version"], first=with_params(url, first)) from None
    note(request, info.id, "items", len(page.features))
    html = fmt is Format.HTML
    links = _page_links(url, params, page, query, html)  # cursors need the whole features
    links += download_links(url, params)
    features = shaping.apply(page.features)
    geometries = geometry_fragments(features, None if html else crs)
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "timeStamp": _timestamp(),
        "numberReturned": len(features),
        "features": [feature_dict(f, g) for f, g in zip(features, geometries, strict=True)],
        "links": links,
    }
    if page.number_matched is not None:
        body["numberMatched"] = page.number_matched
    if html:
        response = render(request, "items.html", doc=body, info=info, geojson=dumps(body).decode())
    else:
        response = Response(dumps(body), media_type=GEOJSON, headers=crs_headers(crs))
    if (page.has_next or page.has_prev) and query.version is not None:
        leases: CursorLeases = request.app.state.leases
        if leases.due(info.id, query.version):  # the version its links pin outlives them
            response.background = BackgroundTask(leases.hold, store, info.id, query.version)
    return response


@router.api_route(
    "/collections/{collectionId}/items/{featureId}", methods=READ, summary="One feature"
)
async def item(request: Request, read: CollectionReadDep) -> Response:
    info, store, settings = read.info, read.store, read.settings
    feature_id: str = request.path_params["featureId"]
    fmt = negotiate(request)
    reject_unknown(request, frozenset({"f", "version", "crs"}) | SHAPING_PARAMS)
    version = parse_version(request.query_params.get("version"))
    crs = output_crs(request.query_params.get("crs"))  # GeoJSON only: HTML maps are CRS84
    shaping = parse_shaping(request, info)
    fid = feature_id_of(feature_id)
    if fid is None:
        raise FeatureNotFound(info.id, feature_id)
    feature = await store.get_feature_async(collection=info, fid=fid, version=version)
    feature = shaping.apply([feature])[0]
    note(request, info.id, "item", 1)
    base = base_url(request, settings)
    collection_url = f"{base}/collections/{info.id}"
    html = fmt is Format.HTML
    body = feature_dict(feature, geometry_fragments([feature], None if html else crs)[0])
    etag = feature_etag(body)  # of these bytes: another CRS is another representation
    if not html and etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    body["links"] = [
        *self_and_alternate(
            f"{collection_url}/items/{fid}",
            {k: v for k, v in request.query_params.items() if k in ("version", "crs")},
            GEOJSON,
            html,
        ),
        link(collection_url, "collection", JSON, "the collection"),
    ]
    if html:
        return render(request, "feature.html", doc=body, info=info, geojson=dumps(body).decode())
    return Response(dumps(body), media_type=GEOJSON, headers={**crs_headers(crs), "ETag": etag})
