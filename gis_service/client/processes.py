"""OGC API – Processes 1.0: execute a process, synchronously or as a polled job.

``Prefer: respond-async`` asks for a job (201 + ``Location``); the client polls
``/jobs/{id}`` until ``successful`` and then reads ``/jobs/{id}/results``. A result that is
a FeatureCollection becomes a GeoDataFrame, so a process reads like a collection.
"""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd

from gis_service.client import frames
from gis_service.client.errors import JobFailed
from gis_service.client.http import Http


def inputs_json(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as JSON: a GeoDataFrame is sent inline as a GeoJSON FeatureCollection."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, gpd.GeoDataFrame):
            value = value.to_crs("OGC:CRS84").__geo_interface__
        out[name] = value
    return out


def execute(http: Http, process: str, inputs: dict[str, Any], wait: bool, poll: float) -> Any:
    """Run ``process``; a GeoDataFrame of its result, or the job document when not waiting."""
    path = f"/processes/{process}/execution"
    body = {"inputs": inputs_json(inputs)}
    if wait and not _async_only(http, process):
        answer = http.request("POST", path, json=body)
        return as_frame(answer.json())
    answer = http.request("POST", path, json=body, headers={"Prefer": "respond-async"})
    job = answer.json()
    if not wait:
        return job
    return as_frame(results(http, job_location(job, answer.headers.get("Location")), poll))


def job_location(job: dict[str, Any] | str, location: str | None = None) -> str:
    """Where a job's status is: its ``Location``, its ``self`` link, or ``/jobs/{id}``."""
    if location:
        return location
    if isinstance(job, str):
        return f"/jobs/{job}"
    for link in job.get("links") or []:
        if link.get("rel") == "self" and link.get("href"):
            return link["href"]
    return f"/jobs/{job.get('jobID') or job['id']}"


def _async_only(http: Http, process: str) -> bool:
    """Whether the process description says it runs only as a job."""
    description = http.json("GET", f"/processes/{process}")
    modes = description.get("jobControlOptions") or ["sync-execute"]
    return "sync-execute" not in modes


def results(http: Http, location: str, poll: float) -> Any:
    """Poll the job until it ends; its results (raise JobFailed unless ``successful``)."""
    while True:
        job = http.json("GET", location)
        status = job.get("status") or job.get("state")
        if status in ("successful", "done"):
            return http.json("GET", location.rstrip("/") + "/results")
        if status in ("failed", "dismissed", "interrupted"):
            raise JobFailed(200, f"job {status}", str(job.get("message") or ""), job)
        time.sleep(poll)


def as_frame(result: Any) -> Any:
    """A FeatureCollection (alone or as the only output) as a GeoDataFrame; else as is."""
    if isinstance(result, dict) and result.get("type") != "FeatureCollection" and len(result) == 1:
        inner = next(iter(result.values()))
        if isinstance(inner, dict):
            inner = inner.get("value", inner)
        if isinstance(inner, dict) and inner.get("type") == "FeatureCollection":
            result = inner
    if isinstance(result, dict) and result.get("type") == "FeatureCollection":
        frame = frames.from_features(result.get("features") or [], frames.CRS84)
        return frames.cast(frame, {})  # integer ids, as a collection's read has them
    return result
