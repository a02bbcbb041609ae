"""Background imports: large uploads answer 202 at once and report progress at /jobs/{id}.

A job runs in a thread of the worker that received the file (the file is on its disk) and
keeps its state in the catalog, so any worker can answer for it. While the thread works, a
heartbeat refreshes the job's row every few seconds (progress alone would not: a commit
building indexes reports none for minutes). A job whose heartbeat stopped for
`STALE_AFTER` lost its worker: it is recorded as interrupted and a create's claim on its
collection id is given back (imports publish atomically or not at all).
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
from fastapi import APIRouter

from ...errors import ServiceError
from ...ingest import IngestReport
from ...store.base import Store
from ...store.catalog import Job
from ..plumbing.links import JSON, link

log = logging.getLogger(__name__)
router = APIRouter(tags=["Sharing"])
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(minutes=1)
Progress = Callable[[int, int | None], None]
_JOB_ID = re.compile(r"[0-9a-f]{32}")
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _now() -> str:
    return datetime.now(UTC).strftime(STAMP)


def stale_before() -> str:
    """Heartbeats older than this (catalog time text, which sorts as time) are dead."""
    return (datetime.now(UTC) - STALE_AFTER).strftime(STAMP)


class Heartbeat:
    """Calls `beat` every `interval` seconds from a thread of its own until stopped, so a
    holder is known alive whether or not its work reports anything."""

    def __init__(
        self, beat: Callable[[], None], interval: float = HEARTBEAT_SECONDS, name: str = "beat"
    ) -> None:
        self._beat, self._interval = beat, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._beat()
            except Exception:  # the store is away for a moment: the next beat may do
                log.warning("heartbeat %s failed", self._thread.name, exc_info=True)


def start_job(
    store: Store,
    *,
    entity: str,
    collection: str,
    operation: str,
    work: Callable[[Progress], IngestReport],
    report_json: Callable[[IngestReport], dict[str, Any]],
    cleanup: Callable[[], None],
    job_id: str | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> Job:
    """`job_id`: a create's claim token, so an interrupted job gives its claim back."""
    now = _now()
    job = Job(
        id=job_id or uuid.uuid4().hex,
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
        beat = Heartbeat(lambda: store.catalog.touch_job(job.id), heartbeat, f"beat-{job.id[:8]}")
        beat.start()
        store.catalog.update_job(job.id, state="running")
        last = time.monotonic()

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            if time.monotonic() - last > 0.5:
                store.catalog.update_job(job.id, done=done, total=total)
                last = time.monotonic()

        try:
            outcome = _outcome(job.id, lambda: work(progress), report_json)
        finally:
            beat.stop()
            try:
                cleanup()  # before the final state: a failed create's id is free once it shows
            except Exception:
                log.exception("job %s: cleaning up failed", job.id)
        store.catalog.update_job(job.id, **outcome)

    threading.Thread(target=run, name=f"job-{job.id[:8]}", daemon=True).start()
    return job


def _outcome(
    job_id: str,
    work: Callable[[], IngestReport],
    report_json: Callable[[IngestReport], dict[str, Any]],
) -> dict[str, Any]:
    """The job row's final columns: done with its report, or failed saying why."""
    try:
        report = work()
    except ServiceError as exc:
        return {"state": "failed", "error": exc.detail}
    except Exception:
        log.exception("job %s failed", job_id)
        return {"state": "failed", "error": "the import failed on the server; it was logged"}
    return {
        "state": "done",
        "done": report.features_read,
        "report": orjson.dumps(report_json(report)).decode(),
    }


def interrupted(store: Store, job: Job) -> Job:
    """The job as it is now, recorded as interrupted first if its heartbeat stopped."""
    cutoff = stale_before()
    if job.state not in ("queued", "running") or job.updated >= cutoff:
        return job
    error = (
        f"the import stopped with its server (no heartbeat since {job.updated});"
        " an import publishes whole or not at all: look at the collection, and send"
        " the file again if it is not there"
    )
    if store.catalog.interrupt_job(job.id, stale_before=cutoff, error=error):
        store.catalog.release_claim(job.collection, job.id)  # a create's id is free again
    return store.catalog.get_job(job.id) or job


def job_document(base: str, job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "state": job.state,
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


# GET /jobs/{jobId} answers for uploads and process runs alike: api/processes/jobs.py
