"""Single-feature edits (OGC API – Features Part 4) that always carry the ETag.

The server refuses an edit without ``If-Match`` (428) and one whose ETag is stale (412,
raised as ``PreconditionFailed``): nobody's change is silently overwritten. ``Feature``
keeps the ETag it was read with, so the usual ``get → change → put`` needs no header work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gis_service.client.http import Http

GEOJSON = "application/geo+json"


@dataclass
class Feature:
    """A GeoJSON feature as read, with the ETag that an edit must send back."""

    collection: str
    id: str
    etag: str
    geojson: dict[str, Any] = field(repr=False)

    @property
    def properties(self) -> dict[str, Any]:
        return self.geojson.get("properties") or {}


def get(http: Http, collection: str, fid: Any) -> Feature:
    """One feature and its ETag."""
    answer = http.request("GET", f"/collections/{collection}/items/{fid}")
    return Feature(collection, str(fid), answer.headers.get("ETag", ""), answer.json())


def add(http: Http, collection: str, feature: dict[str, Any]) -> str:
    """Create a feature; its new id (from ``Location``)."""
    answer = http.request(
        "POST", f"/collections/{collection}/items", json=feature,
        headers={"Content-Type": GEOJSON},
    )  # fmt: skip
    location = answer.headers.get("Location", "")
    return location.rstrip("/").rsplit("/", 1)[-1]


def change(
    http: Http, method: str, collection: str, fid: Any, etag: str, body: dict[str, Any] | None
) -> str | None:
    """PUT, PATCH or DELETE with ``If-Match``; the feature's new ETag (None after DELETE)."""
    headers = {"If-Match": etag}
    if body is not None:
        headers["Content-Type"] = GEOJSON if method == "PUT" else "application/json"
    path = f"/collections/{collection}/items/{fid}"
    answer = http.request(method, path, json=body, headers=headers)
    return answer.headers.get("ETag")
