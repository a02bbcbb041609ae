"""The web map: every layer the caller may see, over vector tiles, in Arabic or English.

The page itself holds no data and no key: the browser asks for the layers the key it
holds (if any) may see, so one page serves every caller and can be cached as such.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...exports.formats import FORMATS
from ..plumbing.html.render import render
from ..plumbing.negotiation import READ, reject_unknown

router = APIRouter()
#: `layer` opens the map on that layer's extent; `filter` is then its CQL2 filter.
MAP_PARAMS = frozenset({"layer", "filter"})


@router.api_route("/map", methods=READ, summary="The web map", tags=["Capabilities"])
async def web_map(request: Request) -> HTMLResponse:
    reject_unknown(request, MAP_PARAMS)
    qp = request.query_params
    formats = [{"name": f.name, "label": f.title} for f in FORMATS.values()]
    return render(
        request,
        "map.html",
        doc={"links": []},
        formats=formats,
        focus={"layer": qp.get("layer"), "filter": qp.get("filter")},
    )
