"""`/jobs`: every job of the caller's, uploads and process runs, in the standard's shape.

A process job is its creator's and its entity admins' (any other caller gets the 404 of
a job that does not exist); an upload's job stays its entity's, as it always was. The
upload's own fields (`id`, `state`, `progress.features_done`...) stay beside the
standard's (`jobID`, `status`...), so clients of either read the same document.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...domain.access import Principal, Role
from ...errors import JobFailed, NotFound, ResultsNotReady
from ...store.base import Store
from ...store.catalog import JOB_COLUMNS, Job
from ...store.catalog_jobs import LIVE, JobView
from ..plumbing.deps import PrincipalDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.links import JSON, base_url, link
from ..plumbing.negotiation import reject_unknown
from ..publishing.jobs import interrupted, job_document, stale_before

router = APIRouter(tags=["Processes"])
GEOJSON = "application/geo+json"
_JOB_ID = re.compile(r"[0-9a-f]{32}")
STATUS = {
    "queued": "accepted",
    "running": "running",
    "done": "successful",
    "failed": "failed",
    "interrupted": "failed",
    "dismissed": "dismissed",
}
MAX_LISTED = 1000
RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"


def visible(principal: Principal, job: JobView) -> bool:
    if principal.entity is None or principal.entity != job.entity:
        return False
    if job.process is None:
        return True  # an upload's job: its entity's, as before processes
    return principal.key_id == job.key_id or principal.role is Role.ADMIN


def _as_job(view: JobView) -> Job:
    return Job(**{c: getattr(view, c) for c in JOB_COLUMNS})


def status_document(base: str, view: JobView) -> dict[str, Any]:
    status = STATUS.get(view.state, "failed")
    finished = view.finished or (view.updated if view.state not in LIVE else None)
    links = [link(f"{base}/jobs/{view.id}", "self", JSON)]
    doc: dict[str, Any] = {
        "jobID": view.id,
        "type": "process",
        "processID": view.process or f"upload-{view.operation}",
        "status": status,
        "message": view.error or status,
        "created": view.created,
        "started": view.started,
        "finished": finished,
        "updated": view.updated,
    }
    if view.process is None:
        upload = job_document(base, _as_job(view))
        percent = (
            100
            if view.state == "done"
            else (round(100 * view.done / view.total) if view.total else None)
        )
        doc["progress"] = upload.pop("progress")
        doc["percent"] = percent
        doc["links"] = upload.pop("links")
        return {**upload, **doc}
    doc["progress"] = 100 if view.state == "done" else view.done
    if status == "successful":
        links.append(
            link(
                f"{base}/jobs/{view.id}/results",
                "http://www.opengis.net/def/rel/ogc/1.0/results",
                GEOJSON,
            )
        )
    if view.collection and status == "successful":
        links.append(link(f"{base}/collections/{view.collection}", "collection", JSON))
    doc["links"] = links
    if view.report:
        doc["report"] = orjson.loads(view.report)
    return doc


def refreshed(store: Store, view: JobView) -> JobView:
    """The job as it is now: a live one whose heartbeat stopped is recorded as stopped."""
    if view.state not in LIVE or view.updated >= stale_before():
        return view
    if view.process is None:
        interrupted(store, _as_job(view))
    elif store.catalog.interrupt_job(
        view.id,
        stale_before=stale_before(),
        error=f"the run stopped with its server (no heartbeat since {view.updated}); run it again",
    ):
        store.catalog.release_claim(view.collection, view.id)
    return store.catalog.job_view(view.id) or view


def find(store: Store, principal: Principal, job_id: str) -> JobView:
    view = store.catalog.job_view(job_id) if _JOB_ID.fullmatch(job_id) else None
    if view is None or not visible(principal, view):
        raise NotFound(f"job {job_id!r} does not exist")
    return refreshed(store, view)


def _mine(store: Store, principal: Principal) -> list[JobView]:
    if principal.entity is None:
        return []
    views = store.catalog.entity_jobs(principal.entity, MAX_LISTED)
    return [refreshed(store, v) for v in views if visible(principal, v)]


@router.get("/jobs", summary="The caller's jobs: uploads and process runs")
async def list_jobs(
    request: Request, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    reject_unknown(request, frozenset())
    base = base_url(request, settings)
    views = await store.call(_mine, store, principal)
    body = {
        "jobs": [status_document(base, v) for v in views],
        "links": [link(f"{base}/jobs", "self", JSON)],
    }
    return Response(dumps(body), media_type=JSON)


@router.get("/jobs/{jobId}", summary="A job's status (an upload's or a process run's)")
async def get_job(
    request: Request, jobId: str, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    reject_unknown(request, frozenset())
    view = await store.call(find, store, principal, jobId)
    return Response(dumps(status_document(base_url(request, settings), view)), media_type=JSON)


@router.get("/jobs/{jobId}/results", summary="A finished process run's results (GeoJSON)")
async def job_results(
    request: Request, jobId: str, principal: PrincipalDep, store: StoreDep
) -> Response:
    reject_unknown(request, frozenset())
    view = await store.call(find, store, principal, jobId)
    if view.process is None:
        raise NotFound(f"job {jobId!r} is an upload: its report is at /jobs/{jobId}")
    if view.state in ("failed", "interrupted"):
        raise JobFailed(view.error or "the job failed")
    body = await store.call(store.catalog.job_results, view.id) if view.state == "done" else None
    if body is None:
        if view.state == "dismissed":
            raise NotFound(f"job {jobId!r} was dismissed")
        raise ResultsNotReady(f"job {jobId!r} has not finished: its results are not ready")
    return Response(body.encode(), media_type=GEOJSON)


@router.delete("/jobs/{jobId}", summary="Dismiss a process run: stop keeping it, results too")
async def dismiss_job(
    request: Request, jobId: str, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    reject_unknown(request, frozenset())
    view = await store.call(find, store, principal, jobId)
    if view.process is None:
        raise NotFound(f"job {jobId!r} is an upload, which cannot be dismissed")
    await store.call(store.catalog.dismiss_job, view.id)
    view = await store.call(find, store, principal, jobId)
    return Response(dumps(status_document(base_url(request, settings), view)), media_type=JSON)
