"""``Client``: the shortest path from a question to a GeoDataFrame, for notebooks.

It talks HTTP only (any OGC API – Features server through the standard paths; this
service's extensions — downloads, uploads, sharing, versions — where present).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis_service.client import editing, processes, publishing, reading
from gis_service.client.editing import Feature
from gis_service.client.errors import ClientError
from gis_service.client.http import Http


class Client:
    """A session with one server; the key (if any) is sent as ``Authorization: Bearer``.

    >>> c = Client("http://127.0.0.1:8000")
    >>> c.read("facilities", filter="capacity > 100").plot()
    """

    def __init__(
        self, url: str, key: str | None = None, timeout: float = 60.0, retries: int = 3,
        backoff: float = 0.5, progress: bool = True, poll: float = 0.5,
    ) -> None:  # fmt: skip
        self.http = Http(url, key, timeout, retries, backoff)
        self.progress, self.poll = progress, poll

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # --- discovery -------------------------------------------------------------------
    def collections(self, q: str | None = None, **filters: Any) -> pd.DataFrame:
        """What the caller may see: one row per collection (``q`` searches, as the site).

        ``keywords=``, ``owner=`` and ``bbox=`` narrow the list as ``/collections`` does.
        """
        params = {
            k: ",".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
            for k, v in {"q": q, **filters}.items()
            if v is not None
        }  # bbox=(x0, y0, x1, y1) and keywords=[...] as the API spells them
        return reading.collections_frame(self.http.json("GET", "/collections", params=params))

    def collection(self, id: str) -> dict[str, Any]:
        """A collection's metadata, with its queryables under ``"queryables"``."""
        meta = self.http.json("GET", f"/collections/{id}")
        meta["queryables"] = self.queryables(id)
        return meta

    def queryables(self, id: str) -> dict[str, Any]:
        """The JSON-Schema properties of the collection (``{}`` where not offered)."""
        try:
            doc = self.http.json("GET", f"/collections/{id}/queryables")
        except ClientError as error:  # a server without Part 3: no dtypes to learn
            if error.status in (0, 401, 403) or error.status >= 500:
                raise
            return {}
        return doc.get("properties") or {}

    # --- reading ---------------------------------------------------------------------
    def read(
        self, id: str, bbox: Sequence[float] | None = None, filter: str | None = None,
        datetime: str | None = None, properties: Sequence[str] | str | None = None,
        crs: str | None = None, sortby: Sequence[str] | str | None = None,
        limit: int | None = None, version: int | None = None, how: str = "auto",
    ) -> gpd.GeoDataFrame:  # fmt: skip
        """The selection as a GeoDataFrame: CRS set, feature id as index, typed columns.

        ``how="auto"`` downloads large selections as GeoParquet and pages small ones (and
        pages wherever the server has no download); ``"pages"``/``"download"`` force one.
        """
        params = reading.selection_params(bbox, filter, datetime, properties, crs, sortby, version)
        schema = self.queryables(id)
        return reading.read(self.http, id, params, limit, schema, how, self.progress)

    # --- publishing ------------------------------------------------------------------
    def upload(
        self, data: gpd.GeoDataFrame | str | Path, id: str, title: str | None = None,
        title_ar: str | None = None, keywords: Sequence[str] | str | None = None,
        visibility: str | None = None, **fields: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """Publish a new collection from a frame or file; waits for its job; the report."""
        if keywords is not None and not isinstance(keywords, str):
            keywords = ",".join(keywords)
        form = dict(id=id, title=title, title_ar=title_ar, keywords=keywords,
                    visibility=visibility, **fields)  # fmt: skip
        return self._send("POST", "/collections", data, form)

    def replace(self, id: str, data: gpd.GeoDataFrame | str | Path, **fields: Any) -> dict:
        """Replace all of a collection's data (a new version, published at once)."""
        return self._send("PUT", f"/collections/{id}/data", data, fields)

    def append(self, id: str, data: gpd.GeoDataFrame | str | Path, **fields: Any) -> dict:
        """Append features to a collection (a new version)."""
        return self._send("POST", f"/collections/{id}/data", data, fields)

    def _send(self, method: str, path: str, data: Any, form: dict[str, Any]) -> dict:
        return publishing.send(self.http, method, path, data, form, self.progress, self.poll)

    def share(
        self, id: str, visibility: str | None = None, entities: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Set visibility and entity grants (``{"police": "read"}``); owner's admins only."""
        return publishing.share(self.http, id, visibility, entities)

    def access(self, id: str) -> dict[str, Any]:
        """Who may read or write the collection."""
        return self.http.json("GET", f"/collections/{id}/access")

    def versions(self, id: str) -> pd.DataFrame:
        """The collection's versions: who, when, how, counts."""
        doc = self.http.json("GET", f"/collections/{id}/versions")
        rows = doc.get("versions", doc) if isinstance(doc, dict) else doc
        return pd.DataFrame(rows)

    def changes(self, id: str, since: int) -> dict[str, Any]:
        """Inserted, updated and deleted features since a version (to keep a copy in sync)."""
        return self.http.json("GET", f"/collections/{id}/changes", params={"since": since})

    # --- editing ---------------------------------------------------------------------
    def feature(self, id: str, fid: Any) -> Feature:
        """One feature with its ETag, for editing."""
        return editing.get(self.http, id, fid)

    def add(self, id: str, feature: dict[str, Any]) -> str:
        """Add a GeoJSON feature; its new id."""
        return editing.add(self.http, id, feature)

    def patch(self, feature: Feature, properties: dict[str, Any]) -> str | None:
        """Change some properties; raises PreconditionFailed if the ETag is stale."""
        body = {"properties": properties}
        return editing.change(self.http, "PATCH", feature.collection, feature.id,
                              feature.etag, body)  # fmt: skip

    def put(self, feature: Feature, geojson: dict[str, Any]) -> str | None:
        """Replace the feature with ``geojson`` (If-Match its ETag)."""
        return editing.change(self.http, "PUT", feature.collection, feature.id,
                              feature.etag, geojson)  # fmt: skip

    def delete(self, feature: Feature) -> None:
        """Delete the feature (If-Match its ETag)."""
        editing.change(self.http, "DELETE", feature.collection, feature.id, feature.etag, None)

    # --- processes -------------------------------------------------------------------
    def run(self, process: str, wait: bool = True, **inputs: Any) -> Any:
        """Execute an OGC API – Processes process; a GeoDataFrame, or the job if not waiting."""
        return processes.execute(self.http, process, inputs, wait, self.poll)

    def job(self, job: dict[str, Any] | str) -> dict[str, Any]:
        """A job's status document now (``job`` is its document or its id)."""
        return self.http.json("GET", processes.job_location(job))

    def wait(self, job: dict[str, Any] | str) -> Any:
        """Wait for a process run started with ``wait=False``; its result, as ``run`` gives."""
        location = processes.job_location(job)
        return processes.as_frame(processes.results(self.http, location, self.poll))
