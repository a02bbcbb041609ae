"""Reading a selection: one download when the server offers one, else all the pages.

A selection of thousands of features costs one request as GeoParquet rather than thousands
of GeoJSON pages. Servers other than ours (any OGC API – Features) answer 400 or 415 to
``f=parquet``; the client then pages, following ``next`` and stopping on an empty page
even when ``next`` is still advertised, so nothing loops and nothing is truncated.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from gis_service.client import frames
from gis_service.client.errors import BadRequest, ClientError
from gis_service.client.http import Http

PAGE = 1000  # features per page when paging
DOWNLOAD_ABOVE = 2000  # numberMatched above which a download is asked for


def selection_params(
    bbox: Any, filter: str | None, datetime: str | None, properties: Any,
    crs: str | None, sortby: Any, limit: int | None, version: int | None,
) -> dict[str, str]:  # fmt: skip
    """The query parameters of a selection, in the spellings the standard uses."""
    params: dict[str, Any] = {
        "bbox": ",".join(map(str, bbox)) if bbox is not None else None,
        "filter": filter,
        "filter-lang": "cql2-text" if filter else None,
        "datetime": datetime,
        "properties": ",".join(properties) if isinstance(properties, list | tuple) else properties,
        "crs": crs,
        "sortby": ",".join(sortby) if isinstance(sortby, list | tuple) else sortby,
        "version": version,
    }
    return {k: str(v) for k, v in params.items() if v is not None}


def matched(http: Http, path: str, params: dict[str, str]) -> int | None:
    """``numberMatched`` of the selection, from a one-feature page (None when not told)."""
    page = http.json("GET", path, params={**params, "limit": "1", "f": "json"})
    number = page.get("numberMatched")
    return int(number) if number is not None else None


def download(http: Http, path: str, params: dict[str, str], limit: int | None) -> gpd.GeoDataFrame:
    """The whole selection as one GeoParquet file (raises BadRequest where unsupported)."""
    query = {**params, "f": "parquet"}
    if limit is not None:
        query["limit"] = str(limit)
    answer = http.request("GET", path, params=query, headers={"Accept": "*/*"})
    if not answer.content.startswith(b"PAR1"):
        raise BadRequest(answer.status_code, "Not a GeoParquet answer", "", {})
    frame = gpd.read_parquet(io.BytesIO(answer.content))
    return frames.with_index(frame)


def pages(
    http: Http, path: str, params: dict[str, str], limit: int | None, total: int | None,
    progress: bool,
) -> gpd.GeoDataFrame:  # fmt: skip
    """Every page of the selection, following ``next`` until an empty page or none."""
    wanted = limit if limit is not None else total
    bar = tqdm(total=wanted, unit="feature", disable=not progress, leave=False)
    features: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, str] | None = {**params, "f": "json", "limit": str(min(PAGE, limit or PAGE))}
    crs_uri = None
    while url:
        answer = http.request("GET", url, params=query, headers={"Accept": "application/geo+json"})
        crs_uri = crs_uri or answer.headers.get("Content-Crs")
        page = answer.json()
        batch = page.get("features") or []
        if not batch:
            break
        features.extend(batch)
        bar.update(len(batch))
        if limit is not None and len(features) >= limit:
            features = features[:limit]
            break
        url, query = next_link(page), None
    bar.close()
    crs = frames.crs_of(crs_uri or params.get("crs"))
    return frames.from_features(features, crs)


def next_link(page: dict[str, Any]) -> str | None:
    """The ``next`` link's href, if the page advertises one."""
    for link in page.get("links") or []:
        if link.get("rel") == "next":
            return link.get("href")
    return None


def read(
    http: Http, collection: str, params: dict[str, str], limit: int | None,
    schema: dict[str, Any], how: str, progress: bool,
) -> gpd.GeoDataFrame:  # fmt: skip
    """The selection as a GeoDataFrame: ``how`` is ``auto``, ``download`` or ``pages``."""
    path = f"/collections/{collection}/items"
    total = matched(http, path, params) if how != "download" else None
    big = (limit or total or 0) > DOWNLOAD_ABOVE
    frame = None
    if how == "download" or (how == "auto" and big):
        try:
            frame = download(http, path, params, limit)
        except BadRequest:
            if how == "download":
                raise
        except ClientError as error:
            if error.status not in (406, 415) or how == "download":
                raise
    if frame is None:
        frame = pages(http, path, params, limit, total, progress)
    if params.get("crs"):
        frame = frame.set_crs(frames.crs_of(params["crs"]), allow_override=True)
    return frames.cast(frame, schema)


def collections_frame(listing: dict[str, Any]) -> pd.DataFrame:
    """``/collections`` as one row per collection: what a notebook shows to choose from."""
    rows = []
    for c in listing.get("collections", []):
        bbox = ((c.get("extent") or {}).get("spatial") or {}).get("bbox") or [None]
        interval = ((c.get("extent") or {}).get("temporal") or {}).get("interval") or [None]
        rows.append({
            "id": c.get("id"), "title": c.get("title"),
            "title_ar": c.get("title_ar") or (c.get("titles") or {}).get("ar"),
            "owner": c.get("owner"), "visibility": c.get("visibility"),
            "features": c.get("numberMatched", c.get("itemCount", c.get("features"))),
            "bbox": bbox[0], "interval": interval[0], "keywords": c.get("keywords"),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("id") if rows else pd.DataFrame()
