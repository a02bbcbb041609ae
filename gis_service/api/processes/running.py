"""Running a process: checked in the request, run in a thread under its budget.

Everything a caller can get wrong (an input, a filter, a hidden collection, a save_as id
taken) is answered before anything runs. A synchronous run answers its result; an
asynchronous one (`Prefer: respond-async`) is a job row (the catalog's, as uploads use)
kept alive by the uploads' heartbeat, its results stored in the catalog so any worker
answers for them. A run that passes its time or memory bound fails cleanly: a 503 for a
synchronous run, a failed job saying why for an asynchronous one. Runs at a time are
bounded per server process (`GIS_PROCESS_WORKERS`); one more is a 503.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from ...domain.access import Principal
from ...errors import Busy, ProcessLimit, ServiceError
from ...processes.inputs import prepare
from ...processes.limits import Budget
from ...processes.raster_inputs import RasterRef, prepare_raster
from ...processes.registry import Process
from ...processes.results import Result
from ...processes.schema import CollectionRef, Inline
from ...store.base import Store
from ...store.catalog import Job
from ..publishing.jobs import Heartbeat, _now
from .request import Run
from .saving import Saved, save_result

log = logging.getLogger(__name__)


def check(store: Store, process: Process, values: dict[str, Any], principal: Principal) -> None:
    """Prepares the feature inputs in place (404 for what the caller may not read)."""
    for name in process.feature_inputs:
        value = values[name]
        if isinstance(value, CollectionRef | Inline):
            values[name] = prepare(store, principal, name, value)
    for name in process.raster_inputs:
        if isinstance(values[name], RasterRef):
            values[name] = prepare_raster(store, principal, name, values[name])
    process.check(values)


class Slots:
    """Runs at a time in this server process (app state, made on first use)."""

    def __init__(self, size: int) -> None:
        self._sem = threading.BoundedSemaphore(size)

    def take(self) -> None:
        if not self._sem.acquire(blocking=False):
            raise Busy("as many processes run as this server allows; try again shortly")

    def give(self) -> None:
        self._sem.release()


def execute(
    store: Store, run: Run, budget: Budget, job_id: str | None
) -> tuple[Result, Saved | None]:
    """The run itself, then the save if asked; a failure keeps nothing."""
    result = run.process.run(store, run.values, budget)
    saved = None
    if run.values.get("save_as"):
        saved = save_result(store, run, result, job_id or uuid.uuid4().hex)
    return result, saved


def run_now(store: Store, run: Run, slots: Slots) -> tuple[Result, Saved | None]:
    slots.take()
    try:
        return execute(store, run, run.budget(), None)
    finally:
        slots.give()


def start(store: Store, run: Run, slots: Slots) -> Job:
    """A job row, then the run in a thread of its own under a heartbeat."""
    slots.take()
    now = _now()
    save_as = run.values.get("save_as") or ""
    job = Job(
        uuid.uuid4().hex,
        run.principal.entity or "",
        save_as,
        f"process:{run.process.id}",
        "queued",
        0,
        100,
        None,
        None,
        now,
        now,
    )
    try:
        store.catalog.add_job(job)
        store.catalog.add_process_job(
            job.id,
            run.principal.key_id,
            run.process.id,
            orjson.dumps(run.inputs_record()).decode(),
        )
    except BaseException:
        slots.give()
        raise
    thread = threading.Thread(
        target=_work, args=(store, run, job, slots), daemon=True, name=f"process-{job.id[:8]}"
    )
    thread.start()
    return job


def _work(store: Store, run: Run, job: Job, slots: Slots) -> None:
    beat = Heartbeat(lambda: store.catalog.touch_job(job.id), name=f"beat-{job.id[:8]}").start()
    try:
        store.catalog.start_process_job(job.id)
        progress = _progress(store, job.id)
        outcome = _outcome(store, run, job, progress)
        body = outcome.pop("body", None)
        store.catalog.finish_process_job(job.id, body, **outcome)
    except Exception:
        log.exception("process job %s could not record its outcome", job.id)
    finally:
        beat.stop()
        slots.give()


def _progress(store: Store, job_id: str) -> Callable[[int], None]:
    last = [-1]

    def report(percent: int) -> None:
        if percent >= last[0] + 10:
            last[0] = percent
            store.catalog.update_job(job_id, done=percent)

    return report


def _outcome(store: Store, run: Run, job: Job, progress: Callable[[int], None]) -> dict[str, Any]:
    try:
        result, saved = execute(store, run, run.budget(progress), job.id)
    except ProcessLimit as exc:
        return {"state": "failed", "error": exc.detail}
    except ServiceError as exc:
        return {"state": "failed", "error": exc.detail}
    except MemoryError:
        return {"state": "failed", "error": "the run ran out of memory and was stopped"}
    except Exception:
        log.exception("process job %s failed", job.id)
        return {"state": "failed", "error": "the process failed on the server; it was logged"}
    report = {"features": len(result)}
    if saved is not None:
        report.update(saved.document())
    return {
        "state": "done",
        "done": 100,
        "report": orjson.dumps(report).decode(),
        "body": result.geojson().decode(),
    }
