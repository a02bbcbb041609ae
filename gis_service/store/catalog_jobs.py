"""The catalog's process jobs: who started each, which process, when, and its results.

A process job is a row of the `jobs` table like an upload's (state, progress, heartbeat,
interruption all shared); what only process runs have lies beside it, one row per job:
the creating key (a job is its creator's and its entity admins'), the process, when it
started and finished, its inputs, and its results (GeoJSON text, so any worker of a
PostGIS deployment can answer for them). A table beside the old one rather than new
columns in it: stores created before processes existed open unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

JOBS_DDL = [
    "CREATE TABLE IF NOT EXISTS {p}process_jobs (id TEXT PRIMARY KEY, key_id TEXT,"
    " process TEXT NOT NULL, inputs TEXT NOT NULL, started TEXT, finished TEXT)",
    "CREATE TABLE IF NOT EXISTS {p}job_results (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jobs_by_entity ON {p}jobs (entity, created)",
]
_JOB = "j.id, j.entity, j.collection, j.operation, j.state, j.done, j.total, j.report,"
_JOB += " j.error, j.created, j.updated, p.key_id, p.process, p.inputs, p.started, p.finished"
_FROM = " FROM {p}jobs j LEFT JOIN {p}process_jobs p ON p.id = j.id"
LIVE = ("queued", "running")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class JobView:
    """A job row with its process columns (None for an upload's)."""

    id: str
    entity: str
    collection: str
    operation: str
    state: str
    done: int
    total: int | None
    report: str | None
    error: str | None
    created: str
    updated: str
    key_id: str | None
    process: str | None
    inputs: str | None
    started: str | None
    finished: str | None


class JobsCatalog:
    """Mixed into the Catalog: its `_do`/`_all` run the statements."""

    def _do(self, template: str, params: tuple = ()) -> int: ...  # pragma: no cover
    def _all(self, template: str, params: tuple = ()) -> list[tuple]: ...  # pragma: no cover

    def add_process_job(self, job_id: str, key_id: str | None, process: str, inputs: str) -> None:
        self._do(
            "INSERT INTO {p}process_jobs VALUES (?, ?, ?, ?, NULL, NULL)",
            (job_id, key_id, process, inputs),
        )

    def start_process_job(self, job_id: str) -> None:
        now = _now()
        self._do("UPDATE {p}process_jobs SET started = ? WHERE id = ?", (now, job_id))
        self._do(
            "UPDATE {p}jobs SET state = 'running', updated = ? WHERE id = ? AND state = 'queued'",
            (now, job_id),
        )

    def finish_process_job(self, job_id: str, body: str | None, **changes: Any) -> bool:
        """Final state, results first; False (and nothing kept) if it was dismissed."""
        now = _now()
        if body is not None:
            self._do("INSERT INTO {p}job_results VALUES (?, ?)", (job_id, body))
        names = sorted(changes)
        sets = "".join(f", {name} = ?" for name in names)
        done = self._do(
            f"UPDATE {{p}}jobs SET updated = ?{sets}"
            " WHERE id = ? AND state IN ('queued', 'running')",
            (now, *[changes[n] for n in names], job_id),
        )
        if not done:
            self._do("DELETE FROM {p}job_results WHERE id = ?", (job_id,))
            return False
        self._do("UPDATE {p}process_jobs SET finished = ? WHERE id = ?", (now, job_id))
        return True

    def dismiss_job(self, job_id: str) -> None:
        """Dismissed: a live run's outcome is thrown away when it ends, results deleted."""
        now = _now()
        self._do("UPDATE {p}jobs SET state = 'dismissed', updated = ? WHERE id = ?", (now, job_id))
        self._do(
            "UPDATE {p}process_jobs SET finished = COALESCE(finished, ?) WHERE id = ?",
            (now, job_id),
        )
        self._do("DELETE FROM {p}job_results WHERE id = ?", (job_id,))

    def job_view(self, job_id: str) -> JobView | None:
        rows = self._all(f"SELECT {_JOB}{_FROM} WHERE j.id = ?", (job_id,))
        return JobView(*rows[0]) if rows else None

    def entity_jobs(self, entity: str, limit: int) -> list[JobView]:
        """An entity's jobs, newest first (the caller's are chosen from these)."""
        rows = self._all(
            f"SELECT {_JOB}{_FROM} WHERE j.entity = ? ORDER BY j.created DESC, j.id LIMIT ?",
            (entity, limit),
        )
        return [JobView(*r) for r in rows]

    def job_results(self, job_id: str) -> str | None:
        rows = self._all("SELECT body FROM {p}job_results WHERE id = ?", (job_id,))
        return rows[0][0] if rows else None
