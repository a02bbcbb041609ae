"""Uploads, replaces and appends (waiting for background jobs), sharing, versions, changes.

A large upload answers 202 with a job; the client waits for it with a progress bar so a
notebook cell ends when the data is published, and returns the import report either way.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
from tqdm.auto import tqdm

from gis_service.client.errors import JobFailed
from gis_service.client.http import Http

FINISHED = {"done", "successful", "succeeded"}
FAILED = {"failed", "interrupted", "dismissed"}


@contextmanager
def as_file(data: gpd.GeoDataFrame | str | Path):
    """A path to upload: the file itself, or a GeoDataFrame written as GeoPackage."""
    if not isinstance(data, gpd.GeoDataFrame):
        yield Path(data)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.gpkg"
        frame = data if data.index.name is None else data.reset_index(drop=True)
        frame.to_file(path, driver="GPKG", layer="data")
        yield path


def send(
    http: Http, method: str, path: str, data: Any, fields: dict[str, Any], progress: bool,
    poll: float,
) -> dict[str, Any]:  # fmt: skip
    """Post a file with form fields; wait for the job if one was started; the report."""
    form = {k: str(v) for k, v in fields.items() if v is not None}
    with as_file(data) as file, open(file, "rb") as handle:
        answer = http.request(method, path, data=form, files={"file": (file.name, handle)})
    if answer.status_code == 202:
        location = answer.headers.get("Location") or answer.json()["links"][0]["href"]
        return wait_job(http, location, progress, poll)["report"]
    body = answer.json()
    return body.get("report", body)


def wait_job(http: Http, location: str, progress: bool, poll: float) -> dict[str, Any]:
    """Poll a job until it ends; raise JobFailed when it did not succeed."""
    bar = tqdm(unit="feature", disable=not progress, leave=False)
    try:
        while True:
            job = http.json("GET", location)
            state = job.get("state") or job.get("status")
            done = (job.get("progress") or {}) if isinstance(job.get("progress"), dict) else {}
            if done.get("features_total"):
                bar.total = done["features_total"]
            bar.n = done.get("features_done") or 0
            bar.refresh()
            if state in FINISHED:
                return job
            if state in FAILED:
                detail = str(job.get("error") or job.get("message") or state)
                raise JobFailed(200, f"job {state}", detail, job)
            time.sleep(poll)
    finally:
        bar.close()


def share(
    http: Http, collection: str, visibility: str | None, entities: dict[str, str] | None
) -> dict[str, Any]:
    """Set who may read (or write) a collection; the access document answered.

    What is not given stays as it is (the server's PUT sets both, so the current access
    is read first), except that granting entities on a private collection makes it
    ``entities``: the server reads grants only then, and a grant nobody can use would
    look like sharing while sharing nothing.
    """
    if visibility is None or entities is None:
        current = http.json("GET", f"/collections/{collection}/access")
        if visibility is None:
            visibility = current["visibility"]
            if visibility == "private" and entities:
                visibility = "entities"
        entities = (current.get("entities") or {}) if entities is None else entities
    body = {"visibility": visibility, "entities": entities}
    return http.json("PUT", f"/collections/{collection}/access", json=body)
