"""OGC API Features Part 3: a collection's queryables, the names and types a filter may use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.filters import queryables_schema
from ..plumbing.deps import CollectionDep, SettingsDep
from ..plumbing.encoding import dumps
from ..plumbing.html.render import render
from ..plumbing.links import base_url
from ..plumbing.negotiation import BASE_PARAMS, READ, Format, negotiate, reject_unknown

router = APIRouter(tags=["Collections"])
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
_PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
#: Part 3 (OGC 19-079r2) and CQL2 (OGC 21-065) classes; each is tested in tests/test_filter*.py.
FILTER_CONFORMANCE = [
    f"{_PART3}/queryables",
    f"{_PART3}/filter",
    f"{_PART3}/features-filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/cql2-json",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/case-insensitive-comparison",
    f"{_CQL2}/accent-insensitive-comparison",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/basic-spatial-functions-plus",
    f"{_CQL2}/spatial-functions",
    f"{_CQL2}/temporal-functions",
    f"{_CQL2}/arithmetic",
    f"{_CQL2}/property-property",
]


@router.api_route(
    "/collections/{collectionId}/queryables",
    methods=READ,
    summary="The properties a filter may name, as a JSON Schema",
)
async def queryables(request: Request, info: CollectionDep, settings: SettingsDep) -> Response:
    fmt = negotiate(request)
    reject_unknown(request, BASE_PARAMS)
    url = f"{base_url(request, settings)}/collections/{info.id}/queryables"
    schema = queryables_schema(info, url)
    if fmt is Format.HTML:
        return render(request, "queryables.html", doc=schema, info=info)
    return Response(dumps(schema), media_type=SCHEMA_JSON)
