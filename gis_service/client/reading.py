"""Reading a selection: one download when the server offers one, else all the pages.

The first page (``f=json``) says how many features the selection matches
(``numberMatched``) and, on this service, links the selection's downloads
(``rel=enclosure``). A selection larger than ``DOWNLOAD_ABOVE`` then costs one GeoParquet
request rather than many GeoJSON pages. Any other OGC API – Features server advertises no
such link and is paged through the standard's ``next`` links, stopping on an empty page
even when ``next`` is still advertised. Either way the count read must be the count
matched: a short read raises ``Incomplete`` instead of returning part of the selection.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import httpx
import pandas as pd
from tqdm.auto import tqdm

from gis_service.client import frames
from gis_service.client.errors import ClientError, Incomplete
from gis_service.client.http import Http

PAGE = 1000  # features per page when paging
DOWNLOAD_ABOVE = 2000  # numberMatched above which a download is asked for
PARQUET = "application/vnd.apache.parquet"
GEOJSON = "application/geo+json"


def selection_params(
    bbox: Any, filter: str | None, datetime: str | None, properties: Any,
    crs: str | None, sortby: Any, version: int | None,
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


class Page:
    """One GeoJSON page as answered: its features, links, count and CRS."""

    def __init__(self, answer: httpx.Response) -> None:
        body = answer.json()
        self.url = answer.url
        self.features: list[dict[str, Any]] = body.get("features") or []
        self.links: list[dict[str, Any]] = body.get("links") or []
        number = body.get("numberMatched")
        self.matched = int(number) if number is not None else None
        self.crs = answer.headers.get("Content-Crs")

    def link(self, rel: str, media_type: str | None = None) -> str | None:
        """The absolute href of the first link with ``rel`` (and that media type)."""
        for item in self.links:
            kind = (item.get("type") or "").split(";")[0].strip()
            if item.get("rel") == rel and (media_type is None or kind == media_type):
                return str(self.url.join(item["href"])) if item.get("href") else None
        return None


def get_page(http: Http, url: str, params: dict[str, str] | None) -> Page:
    return Page(http.request("GET", url, params=params, headers={"Accept": GEOJSON}))


def download(http: Http, url: str, params: dict[str, str] | None) -> gpd.GeoDataFrame:
    """The whole selection as one GeoParquet file."""
    answer = http.request("GET", url, params=params, headers={"Accept": f"{PARQUET}, */*"})
    if not answer.content.startswith(b"PAR1"):
        kind = answer.headers.get("Content-Type", "")
        raise ClientError(answer.status_code, "Not a GeoParquet answer", f"got {kind!r}", {})
    return frames.with_index(gpd.read_parquet(io.BytesIO(answer.content)))


def rest_of_pages(
    http: Http, first: Page, limit: int | None, wanted: int | None, progress: bool
) -> list[dict[str, Any]]:
    """The features of ``first`` and every page after it, up to ``limit``.

    Follows ``next`` until a page without one, or an empty page (whatever it links).
    """
    bar = tqdm(total=wanted, unit="feature", disable=not progress, leave=False)
    features: list[dict[str, Any]] = []
    page: Page | None = first
    while page is not None and page.features:
        features.extend(page.features)
        bar.update(len(page.features))
        if limit is not None and len(features) >= limit:
            del features[limit:]
            break
        href = page.link("next")
        page = get_page(http, href, None) if href else None
    bar.close()
    return features


def read(
    http: Http, collection: str, params: dict[str, str], limit: int | None,
    schema: dict[str, Any], how: str, progress: bool,
) -> gpd.GeoDataFrame:  # fmt: skip
    """The selection as a GeoDataFrame: ``how`` is ``auto``, ``download`` or ``pages``."""
    if how not in ("auto", "download", "pages"):
        raise ValueError("how must be 'auto', 'download' or 'pages'")
    path = f"/collections/{collection}/items"
    size = str(min(PAGE, limit) if limit is not None else PAGE)
    first = get_page(http, path, {**params, "f": "json", "limit": size})
    wanted = _wanted(first.matched, limit)
    more = first.link("next") is not None and (limit is None or len(first.features) < limit)
    offered = first.link("enclosure", PARQUET)
    crs = frames.crs_of(params.get("crs") or first.crs)
    if how == "download" or (how == "auto" and offered and more and _big(wanted)):
        query = {**params, "f": "parquet", **({"limit": str(limit)} if limit is not None else {})}
        frame = download(http, path, query).set_crs(crs, allow_override=True)
    else:
        features = rest_of_pages(http, first, limit, wanted, progress)
        frame = frames.from_features(features, crs)
    if wanted is not None and len(frame) != wanted:
        raise Incomplete(
            200, "Incomplete read",
            f"{collection}: read {len(frame)} features where the server matched {wanted}", {},
        )  # fmt: skip
    return frames.cast(frames.geometry_last(frame), schema)


def _wanted(matched: int | None, limit: int | None) -> int | None:
    """How many features the read must return (None when the server does not count)."""
    if matched is None:
        return None
    return matched if limit is None else min(matched, limit)


def _big(wanted: int | None) -> bool:
    """Worth a download: above the threshold, or uncounted (the server stopped counting)."""
    return wanted is None or wanted > DOWNLOAD_ABOVE


def collections_frame(listing: dict[str, Any]) -> pd.DataFrame:
    """``/collections`` as one row per collection: what a notebook shows to choose from."""
    rows = []
    for c in listing.get("collections", []):
        extent = c.get("extent") or {}
        bbox = (extent.get("spatial") or {}).get("bbox") or [None]
        interval = (extent.get("temporal") or {}).get("interval") or [None]
        rows.append({
            "id": c.get("id"), "title": c.get("title"), "title_ar": c.get("title_ar"),
            "owner": c.get("owner"), "visibility": c.get("visibility"),
            "features": c.get("itemCount"), "bbox": bbox[0], "interval": interval[0],
            "keywords": c.get("keywords") or [], "description": c.get("description"),
        })  # fmt: skip
    columns = ["id", "title", "title_ar", "owner", "visibility", "features", "bbox",
               "interval", "keywords", "description"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).set_index("id")
    frame["features"] = frame["features"].astype("Int64")
    return frame
