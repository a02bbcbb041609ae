"""The catalog beside the features: entities, API keys and each collection's access policy.

One SQL implementation serves both stores (SQLite file in the embedded store's folder,
tables in the PostGIS schema); only the connection and the placeholder differ.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..domain.access import AccessPolicy, Entity, Role
from ..errors import Conflict
from .catalog_jobs import JOBS_DDL, JobsCatalog
from .catalog_rasters import RASTERS_DDL, RastersCatalog
from .catalog_styles import STYLES_DDL, StylesCatalog
from .catalog_versions import VERSIONS_DDL, VersionRecord, VersionsCatalog

__all__ = ["Catalog", "VersionRecord"]  # VersionRecord: where writers have imported it

DDL = [
    "CREATE TABLE IF NOT EXISTS {p}entities (id TEXT PRIMARY KEY, name_en TEXT NOT NULL,"
    " name_ar TEXT NOT NULL, created TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}api_keys (id TEXT PRIMARY KEY,"
    " entity TEXT NOT NULL REFERENCES {p}entities(id), role TEXT NOT NULL,"
    " secret_hash TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT)",
    "CREATE TABLE IF NOT EXISTS {p}access (collection TEXT PRIMARY KEY, policy TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}audit (time TEXT NOT NULL, request_id TEXT NOT NULL,"
    " key_id TEXT, entity TEXT, collection TEXT NOT NULL, operation TEXT NOT NULL,"
    " features INTEGER NOT NULL, status INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_by_collection ON {p}audit (collection, time)",
    *VERSIONS_DDL,
    *STYLES_DDL,
    *RASTERS_DDL,
    "CREATE TABLE IF NOT EXISTS {p}jobs (id TEXT PRIMARY KEY, entity TEXT NOT NULL,"
    " collection TEXT NOT NULL, operation TEXT NOT NULL, state TEXT NOT NULL,"
    " done INTEGER NOT NULL, total INTEGER, report TEXT, error TEXT, created TEXT NOT NULL,"
    " updated TEXT NOT NULL)",
    # a collection id being created: one row per id, so only one create can hold it
    "CREATE TABLE IF NOT EXISTS {p}claims (collection TEXT PRIMARY KEY, token TEXT NOT NULL,"
    " entity TEXT, created TEXT NOT NULL, updated TEXT NOT NULL)",
    *JOBS_DDL,
]
JOB_COLUMNS = (
    "id",
    "entity",
    "collection",
    "operation",
    "state",
    "done",
    "total",
    "report",
    "error",
    "created",
    "updated",
)

AUDIT_COLUMNS = (
    "time",
    "request_id",
    "key_id",
    "entity",
    "collection",
    "operation",
    "features",
    "status",
)


@dataclass(frozen=True)
class KeyRecord:
    id: str
    entity: str
    role: Role
    secret_hash: str
    created: str
    revoked: str | None


@dataclass(frozen=True)
class AuditEvent:
    """One read or write of a collection: who, what, how many features, when."""

    time: str
    request_id: str
    key_id: str | None
    entity: str | None
    collection: str
    operation: str
    features: int
    status: int


@dataclass(frozen=True)
class Job:
    """A background import: its state, progress (features done) and final report."""

    id: str
    entity: str
    collection: str
    operation: str
    state: str  # queued, running, done, failed
    done: int
    total: int | None
    report: str | None  # JSON
    error: str | None
    created: str
    updated: str


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Catalog(JobsCatalog, VersionsCatalog, StylesCatalog, RastersCatalog):
    """Entities, keys and access policies; every method is one short statement."""

    def __init__(
        self, connect: Callable[[], AbstractContextManager[Any]], placeholder: str, prefix: str = ""
    ) -> None:
        self._connect, self._ph, self._p = connect, placeholder, prefix
        with self._connect() as conn:
            for statement in DDL:
                conn.execute(statement.format(p=prefix))

    def _sql(self, template: str) -> str:
        return template.format(p=self._p).replace("?", self._ph)

    def _all(self, template: str, params: tuple = ()) -> list[tuple]:
        with self._connect() as conn:
            return list(conn.execute(self._sql(template), params).fetchall())

    def _do(self, template: str, params: tuple = ()) -> int:
        with self._connect() as conn:
            return conn.execute(self._sql(template), params).rowcount

    # -- entities --------------------------------------------------------------------------
    def add_entity(self, entity: Entity) -> None:
        if self.get_entity(entity.id) is not None:
            raise Conflict(f"entity {entity.id!r} exists already")
        self._do(
            "INSERT INTO {p}entities VALUES (?, ?, ?, ?)",
            (entity.id, entity.name_en, entity.name_ar, _now()),
        )

    def get_entity(self, entity_id: str) -> Entity | None:
        rows = self._all("SELECT id, name_en, name_ar FROM {p}entities WHERE id = ?", (entity_id,))
        return Entity(id=rows[0][0], name_en=rows[0][1], name_ar=rows[0][2]) if rows else None

    def list_entities(self) -> list[Entity]:
        rows = self._all("SELECT id, name_en, name_ar FROM {p}entities ORDER BY id")
        return [Entity(id=r[0], name_en=r[1], name_ar=r[2]) for r in rows]

    # -- keys ------------------------------------------------------------------------------
    def add_key(self, *, key_id: str, entity: str, role: Role, secret_hash: str) -> None:
        self._do(
            "INSERT INTO {p}api_keys VALUES (?, ?, ?, ?, ?, NULL)",
            (key_id, entity, role.value, secret_hash, _now()),
        )

    def find_key(self, key_id: str) -> KeyRecord | None:
        rows = self._all(
            "SELECT id, entity, role, secret_hash, created, revoked FROM {p}api_keys WHERE id = ?",
            (key_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return KeyRecord(
            id=r[0], entity=r[1], role=Role(r[2]), secret_hash=r[3], created=r[4], revoked=r[5]
        )

    def list_keys(self, entity: str) -> list[KeyRecord]:
        rows = self._all(
            "SELECT id, entity, role, secret_hash, created, revoked FROM {p}api_keys"
            " WHERE entity = ? ORDER BY created, id",
            (entity,),
        )
        return [
            KeyRecord(
                id=r[0], entity=r[1], role=Role(r[2]), secret_hash=r[3], created=r[4], revoked=r[5]
            )
            for r in rows
        ]

    def revoke_key(self, key_id: str) -> bool:
        return (
            self._do(
                "UPDATE {p}api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (_now(), key_id),
            )
            > 0
        )

    # -- access ----------------------------------------------------------------------------
    def get_access(self, collection_id: str) -> AccessPolicy:
        """A collection nobody set a policy for is public and owned by no entity."""
        rows = self._all("SELECT policy FROM {p}access WHERE collection = ?", (collection_id,))
        return AccessPolicy.model_validate_json(rows[0][0]) if rows else AccessPolicy()

    def set_access(self, collection_id: str, policy: AccessPolicy) -> None:
        self._do(
            "INSERT INTO {p}access VALUES (?, ?) ON CONFLICT (collection)"
            " DO UPDATE SET policy = excluded.policy",
            (collection_id, policy.model_dump_json()),
        )

    def access_text(self, collection_id: str) -> str | None:
        """The stored policy as it is (None without a row), to put back exactly."""
        rows = self._all("SELECT policy FROM {p}access WHERE collection = ?", (collection_id,))
        return rows[0][0] if rows else None

    def restore_access(self, collection_id: str, mine: AccessPolicy, previous: str | None) -> None:
        """Undo a `set_access(collection_id, mine)`, unless someone changed the row since."""
        if previous is None:
            self._do(
                "DELETE FROM {p}access WHERE collection = ? AND policy = ?",
                (collection_id, mine.model_dump_json()),
            )
        else:
            self._do(
                "UPDATE {p}access SET policy = ? WHERE collection = ? AND policy = ?",
                (previous, collection_id, mine.model_dump_json()),
            )

    def access_map(self) -> dict[str, AccessPolicy]:
        """Every explicit policy, for listing many collections with one statement."""
        rows = self._all("SELECT collection, policy FROM {p}access")
        return {r[0]: AccessPolicy.model_validate_json(r[1]) for r in rows}

    # -- audit -----------------------------------------------------------------------------
    def record(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        marks = ", ".join("?" * len(AUDIT_COLUMNS))
        sql = self._sql(f"INSERT INTO {{p}}audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks})")
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.executemany(sql, [tuple(getattr(e, c) for c in AUDIT_COLUMNS) for e in events])

    def audit(
        self, collections: list[str], *, since: str | None, until: str | None, limit: int
    ) -> list[AuditEvent]:
        """Newest first, for the given collections."""
        if not collections:
            return []
        where, params = self._audit_where(collections, since, until)
        rows = self._all(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {{p}}audit WHERE {where}"
            " ORDER BY time DESC LIMIT ?",
            (*params, limit),
        )
        return [AuditEvent(*r) for r in rows]

    def usage(
        self, collections: list[str], *, since: str | None, until: str | None
    ) -> list[tuple[str, str, str | None, int, int]]:
        """(day, collection, consuming entity, requests, features) for the collections."""
        if not collections:
            return []
        where, params = self._audit_where(collections, since, until)
        return [
            tuple(r)
            for r in self._all(
                "SELECT substr(time, 1, 10) AS day, collection, entity, count(*), sum(features)"
                f" FROM {{p}}audit WHERE {where} GROUP BY substr(time, 1, 10), collection, entity"
                " ORDER BY day, collection, entity",
                params,
            )
        ]

    @staticmethod
    def _audit_where(
        collections: list[str], since: str | None, until: str | None
    ) -> tuple[str, tuple]:
        where = f"collection IN ({', '.join('?' * len(collections))})"
        params: list[Any] = list(collections)
        if since:
            where += " AND time >= ?"
            params.append(since)
        if until:
            where += " AND time < ?"
            params.append(until)
        return where, tuple(params)

    # -- jobs ------------------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        marks = ", ".join("?" * len(JOB_COLUMNS))
        self._do(
            f"INSERT INTO {{p}}jobs VALUES ({marks})", tuple(getattr(job, c) for c in JOB_COLUMNS)
        )

    def update_job(self, job_id: str, **changes: Any) -> None:
        changes["updated"] = _now()
        names = [c for c in changes if c in JOB_COLUMNS]
        sets = ", ".join(f"{name} = ?" for name in names)
        self._do(
            f"UPDATE {{p}}jobs SET {sets} WHERE id = ?", (*[changes[n] for n in names], job_id)
        )

    def get_job(self, job_id: str) -> Job | None:
        rows = self._all(f"SELECT {', '.join(JOB_COLUMNS)} FROM {{p}}jobs WHERE id = ?", (job_id,))
        return Job(*rows[0]) if rows else None

    def touch_job(self, job_id: str) -> None:
        """A running job's heartbeat: its worker is alive, whether or not it progresses."""
        self._do(
            "UPDATE {p}jobs SET updated = ? WHERE id = ? AND state IN ('queued', 'running')",
            (_now(), job_id),
        )

    def interrupt_job(self, job_id: str, *, stale_before: str, error: str) -> bool:
        """Mark a job whose heartbeat stopped before `stale_before` as interrupted, once."""
        return (
            self._do(
                "UPDATE {p}jobs SET state = 'interrupted', error = ?, updated = ?"
                " WHERE id = ? AND state IN ('queued', 'running') AND updated < ?",
                (error, _now(), job_id, stale_before),
            )
            > 0
        )

    # -- claims: a collection id held by the one create that may publish it --------------
    def claim(
        self, collection_id: str, token: str, entity: str | None, *, stale_before: str
    ) -> bool:
        """Take the id in one statement: False while another holder's heartbeat is fresher
        than `stale_before` (a dead holder's claim is taken over)."""
        now = _now()
        return (
            self._do(
                "INSERT INTO {p}claims AS c VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection)"
                " DO UPDATE SET token = excluded.token, entity = excluded.entity,"
                " created = excluded.created, updated = excluded.updated WHERE c.updated < ?",
                (collection_id, token, entity, now, now, stale_before),
            )
            == 1
        )

    def touch_claim(self, collection_id: str, token: str) -> None:
        self._do(
            "UPDATE {p}claims SET updated = ? WHERE collection = ? AND token = ?",
            (_now(), collection_id, token),
        )

    def release_claim(self, collection_id: str, token: str) -> None:
        """Give the id back, only if this holder still has it."""
        self._do("DELETE FROM {p}claims WHERE collection = ? AND token = ?", (collection_id, token))

    def forget_access(self, collection_id: str) -> None:
        """A deleted collection's settings go with it: its access policy and its styles."""
        self._do("DELETE FROM {p}access WHERE collection = ?", (collection_id,))
        self.forget_styles(collection_id)
