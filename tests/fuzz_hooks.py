"""schemathesis hooks for tests/plumbing/test_fuzz_api.py (loaded by its `st run` through
SCHEMATHESIS_HOOKS): what the OpenAPI document cannot say, made true of valid requests.

A JSON Schema states each value's form, not how values relate or what exists: an interval's
start before its end, a box's corners in order and inside CRS84, an EPSG code PROJ knows, a
cursor the service issued, a filter in CQL2's grammar, a sort key given once, an entity that
exists; and which ETag a feature has now. A schema-valid request that breaks one of these
is rightly a 400 (or 412), so each positive case is brought within them before it is sent
(nothing else is changed, and negative cases are sent as generated, except for `limit`,
below). GIS_FUZZ_URL and GIS_FUZZ_TOKEN name the server and its admin key.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import schemathesis

from gis_service.domain.query import parse_datetime
from gis_service.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
KNOWN_EPSG = {"4326", "3857", "32640", "32639", "3997", "27040"}
_EPSG = re.compile(r"(EPSG(?:/0/|::|:))([0-9]+)")
ENTITIES = ("fuzz", "other")
MAX_LIMIT = 10_000  # Settings.max_limit, as the test serves it


def _known_crs(value: Any) -> Any:
    """An EPSG code PROJ may not know becomes 4326 (the form is kept)."""
    if not isinstance(value, str):
        return value
    return _EPSG.sub(
        lambda m: m.group(0) if m.group(2) in KNOWN_EPSG else m.group(1) + "4326", value
    )


def _wrap(value: float, half: float) -> float:
    return (value + half) % (2 * half) - half


def _items(value: Any) -> list[str]:
    """A query array as it is sent: one comma-separated text (or still a list)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).split(",")


def _bbox(value: Any) -> Any:
    """The same numbers as a CRS84 box: longitudes and latitudes wrapped into range, the
    lower latitude (and height) first. A minimum longitude above the maximum is left: it is
    a valid box across the antimeridian."""
    try:
        numbers = [float(v) for v in _items(value)]
    except ValueError:
        return value
    if len(numbers) == 6:
        x1, y1, z1, x2, y2, z2 = numbers
        z1, z2 = sorted((z1, z2))
    elif len(numbers) == 4:
        x1, y1, x2, y2 = numbers
    else:
        return value
    y1, y2 = sorted((_wrap(y1, 90.0), _wrap(y2, 90.0)))
    corners = [_wrap(x1, 180.0), y1, _wrap(x2, 180.0), y2]
    box = corners if len(numbers) != 6 else [*corners[:2], z1, *corners[2:], z2]
    return ",".join(repr(n) for n in box)


def _datetime(value: Any) -> Any:
    """An interval whose ends are out of order, turned round (any other error stays)."""
    if not isinstance(value, str) or "/" not in value:
        return value
    try:
        parse_datetime(value)
    except InvalidParameter as exc:
        if "start is after its end" in exc.detail:
            start, end = value.split("/")
            return f"{end}/{start}"
    except Exception:  # the server's answer to it is what is being tested
        pass
    return value


def _sort_keys(value: Any) -> str:
    seen: dict[str, str] = {}
    for term in _items(value):
        seen.setdefault(term.strip().lstrip("+-"), term)
    return ",".join(seen.values())


def _limit(value: Any) -> Any:
    try:
        return str(MAX_LIMIT) if int(value) > MAX_LIMIT else value
    except (TypeError, ValueError):
        return value


def _query(query: dict[str, Any], generic: bool) -> None:
    for name in ("crs", "bbox-crs", "filter-crs"):
        if name in query:
            query[name] = _known_crs(query[name])
    if "bbox" in query:
        query["bbox"] = _bbox(query["bbox"])
        if "bbox-crs" in query:
            query["bbox-crs"] = CRS84
    if "datetime" in query:
        query["datetime"] = _datetime(query["datetime"])
    query.pop("cursor", None)  # only issued cursors are valid
    if "filter" in query or "filter-lang" in query or "filter-crs" in query:
        json_lang = query.get("filter-lang") == "cql2-json"
        query["filter"] = '{"op":"=","args":[1,1]}' if json_lang else "1=1"
    if generic:  # property names depend on the collection (its own operations list them)
        query.pop("sortby", None)
        query.pop("properties", None)
    elif "sortby" in query:
        query["sortby"] = _sort_keys(query["sortby"])
    if query.get("f") == "kml":
        query.pop("crs", None)  # KML is CRS84 by its specification
    if query.get("f") == "fgb":
        query.pop("skipGeometry", None)  # a FlatGeobuf file needs geometry


def _set_header(case: Any, name: str, value: str) -> None:
    if case.headers is None:
        case.headers = {name: value}
    else:
        case.headers[name] = value


def _current_etag(case: Any) -> str | None:
    """The feature's ETag now, in the CRS the request's Content-Crs names (what If-Match
    must carry); None when it cannot be read (absent, hidden: the request answers that)."""
    params = case.path_parameters or {}
    crs = str((case.headers or {}).get("Content-Crs", "")).strip("<>")
    url = "{}/collections/{}/items/{}".format(
        os.environ["GIS_FUZZ_URL"],
        urllib.parse.quote(str(params.get("collectionId", "")), safe="%"),
        urllib.parse.quote(str(params.get("featureId", "")), safe="%"),
    )
    if crs:
        url += "?" + urllib.parse.urlencode({"crs": crs})
    get = urllib.request.Request(url, headers={"Authorization": os.environ["GIS_FUZZ_TOKEN"]})
    try:
        with urllib.request.urlopen(get, timeout=10) as response:
            return response.headers.get("ETag")
    except (urllib.error.URLError, ValueError):
        return None


def _positive(case: Any) -> None:
    path = case.operation.path
    if path.endswith("/items/{featureId}") and case.method.upper() in ("PUT", "PATCH", "DELETE"):
        etag = _current_etag(case)
        if etag is not None:
            _set_header(case, "If-Match", etag)
    if isinstance(case.query, dict):
        _query(case.query, generic="{collectionId}" in path)
    if case.headers is not None and "Content-Crs" in case.headers:
        _set_header(case, "Content-Crs", _known_crs(case.headers["Content-Crs"]))
    body = case.body
    if path.endswith("/access") and isinstance(body, dict):
        grants = body.get("entities")
        if isinstance(grants, dict):  # only entities that exist can be granted
            body["entities"] = dict(zip(ENTITIES, grants.values(), strict=False))


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Positive cases within what the schema cannot say; the run's key kept; `limit` above
    the maximum clamped in every case (OGC API Features 1.0.1 requires the server to take it
    as the maximum, and its schema to declare the maximum: only the clamp goes untested)."""
    params = case.path_parameters
    # The run's own key (GET /entities/fuzz/keys lists its id) is never revoked.
    if (
        case.operation.path.endswith("/keys/{keyId}")
        and params
        and params.get("keyId") == os.environ["GIS_FUZZ_TOKEN"].split("_")[1]
    ):
        params["keyId"] = "000000000000"
    if isinstance(case.query, dict) and "limit" in case.query:
        case.query["limit"] = _limit(case.query["limit"])
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive:
        _positive(case)
