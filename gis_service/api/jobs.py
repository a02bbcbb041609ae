"""Background imports: large uploads answer 202 at once and report progress at /jobs/{id}.

A job runs in a thread of the worker that received the file (the file is on its disk) and
keeps its state in the catalog, so any worker can answer for it. A job whose worker died
stops updating; after `STALE_AFTER` it is shown as interrupted (the data is untouched:
imports publish atomically or not at all).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import NotFound, ServiceError
from ..ingest import IngestReport
from ..store.base import Store
from ..store.catalog import Job
from .deps import PrincipalDep, SettingsDep, StoreDep
from .encoding import dumps
from .links import JSON, base_url, link
from .negotiation import reject_unknown

log = logging.getLogger(__name__)
router = APIRouter(tags=["Sharing"])
STALE_AFTER = timedelta(minutes=10)
Progress = Callable[[int, int | None], None]
_JOB_ID = re.compile(r"[0-9a-f]{32}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_job(
    store: Store,
    *,
    entity: str,
    collection: str,
    operation: str,
    work: Callable[[Progress], IngestReport],
    report_json: Callable[[IngestReport], dict[str, Any]],
    cleanup: Callable[[], None],
) -> Job:
    now = _now()
    job = Job(
        id=uuid.uuid4().hex,
        entity=entity,
        collection=collection,
        operation=operation,
        state="queued",
        done=0,
        total=None,
        report=None,
        error=None,
        created=now,
        updated=now,
    )
    store.catalog.add_job(job)

    def run() -> None:
        store.catalog.update_job(job.id, state="running")
        last = time.monotonic()

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            if time.monotonic() - last > 0.5:
                store.catalog.update_job(job.id, done=done, total=total)
                last = time.monotonic()

        try:
            report = work(progress)
            store.catalog.update_job(
                job.id,
                state="done",
                done=report.features_read,
                report=orjson.dumps(report_json(report)).decode(),
            )
        except ServiceError as exc:
            store.catalog.update_job(job.id, state="failed", error=exc.detail)
        except Exception:
            log.exception("job %s failed", job.id)
            store.catalog.update_job(
                job.id, state="failed", error="the import failed on the server; it was logged"
            )
        finally:
            cleanup()

    threading.Thread(target=run, name=f"job-{job.id[:8]}", daemon=True).start()
    return job


def job_document(base: str, job: Job) -> dict[str, Any]:
    state = job.state
    updated = datetime.strptime(job.updated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if state in ("queued", "running") and datetime.now(UTC) - updated > STALE_AFTER:
        state = "interrupted"
    return {
        "id": job.id,
        "state": state,
        "collection": job.collection,
        "operation": job.operation,
        "progress": {"features_done": job.done, "features_total": job.total},
        "report": orjson.loads(job.report) if job.report else None,
        "error": job.error,
        "created": job.created,
        "updated": job.updated,
        "links": [
            link(f"{base}/jobs/{job.id}", "self", JSON),
            link(f"{base}/collections/{job.collection}", "collection", JSON),
        ],
    }


@router.get("/jobs/{jobId}", summary="A background import's state, progress and report")
async def get_job(
    request: Request, jobId: str, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    reject_unknown(request, frozenset())
    # ids are uuid4 hex: anything else (a NUL, which PostgreSQL text refuses) is no job
    job = await store.call(store.catalog.get_job, jobId) if _JOB_ID.fullmatch(jobId) else None
    if job is None or principal.entity != job.entity:
        raise NotFound(f"job {jobId!r} does not exist")
    return Response(dumps(job_document(base_url(request, settings), job)), media_type=JSON)
