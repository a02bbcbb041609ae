"""A tile request's parameters: the tile itself, and which features (as for items)."""

from __future__ import annotations

from fastapi import Request

from ...domain.collection import CollectionInfo, equality_parameters
from ...domain.filters import FILTER_PARAMS, parse_filter
from ...domain.query import FeatureQuery, parse_datetime, parse_equals
from ...errors import InvalidParameter
from ...tiles.grids import grid
from ...tiles.render import TileSpec
from ..features.shaping import parse_shaping
from ..plumbing.negotiation import reject_unknown

#: What a collection's tile takes besides `?name=value` (items' meaning for each).
TILE_PARAMS = frozenset({"datetime", "properties"}) | FILTER_PARAMS
#: Dataset tiles hold several collections: a filter naming properties would fit few.
DATASET_PARAMS = frozenset({"datetime", "collections"})


def tile_spec(request: Request, info: CollectionInfo) -> tuple[TileSpec, tuple]:
    """The collection tile asked for, and the canonical parameters its cache key holds."""
    if not request.scope["query_string"]:  # most tiles: nothing to parse or check
        return _spec(request, FeatureQuery(), None), ()
    query, properties = _features(request, info, TILE_PARAMS)
    params = tuple(sorted(request.query_params.multi_items()))
    return _spec(request, query, properties, params), params


def tile_params(request: Request, info: CollectionInfo, allowed: frozenset[str]) -> dict[str, str]:
    """A tileset's query, checked as its tiles will check it, for the tile template."""
    _features(request, info, allowed)
    return {k: v for k, v in request.query_params.items() if k != "f"}


def _features(
    request: Request, info: CollectionInfo, allowed: frozenset[str]
) -> tuple[FeatureQuery, tuple[str, ...] | None]:
    filters = {p.name for p in equality_parameters(info)}
    reject_unknown(request, allowed | filters)
    qp = request.query_params
    query = FeatureQuery(
        interval=parse_datetime(qp.get("datetime")),
        equals=parse_equals(info, {k: v for k, v in qp.items() if k in filters}),
        filter=parse_filter(qp.get("filter"), qp.get("filter-lang"), qp.get("filter-crs"), info),
    )
    return query, parse_shaping(request, info).properties


def dataset_spec(request: Request) -> tuple[TileSpec, tuple]:
    reject_unknown(request, DATASET_PARAMS)
    qp = request.query_params
    query = FeatureQuery(interval=parse_datetime(qp.get("datetime")))
    params = (qp.get("datetime"),)
    return _spec(request, query, None, params), params


def collections_param(request: Request) -> list[str] | None:
    text = request.query_params.get("collections")
    if text is None:
        return None
    names = text.split(",")
    if not all(names):
        raise InvalidParameter(
            "collections", f"expected collection ids separated by commas, got {text!r}"
        )
    return list(dict.fromkeys(names))


def _spec(
    request: Request,
    query: FeatureQuery,
    properties: tuple[str, ...] | None,
    params: tuple | None = None,
) -> TileSpec:
    path = request.path_params
    tms = grid(path["tileMatrixSetId"])
    z, row, col = tms.check(path["tileMatrix"], path["tileRow"], path["tileCol"])
    return TileSpec(tms, z, row, col, query, properties, params)
