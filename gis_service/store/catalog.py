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

DDL = [
    "CREATE TABLE IF NOT EXISTS {p}entities (id TEXT PRIMARY KEY, name_en TEXT NOT NULL,"
    " name_ar TEXT NOT NULL, created TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}api_keys (id TEXT PRIMARY KEY,"
    " entity TEXT NOT NULL REFERENCES {p}entities(id), role TEXT NOT NULL,"
    " secret_hash TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT)",
    "CREATE TABLE IF NOT EXISTS {p}access (collection TEXT PRIMARY KEY, policy TEXT NOT NULL)",
]


@dataclass(frozen=True)
class KeyRecord:
    id: str
    entity: str
    role: Role
    secret_hash: str
    created: str
    revoked: str | None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Catalog:
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

    def access_map(self) -> dict[str, AccessPolicy]:
        """Every explicit policy, for listing many collections with one statement."""
        rows = self._all("SELECT collection, policy FROM {p}access")
        return {r[0]: AccessPolicy.model_validate_json(r[1]) for r in rows}

    def forget_access(self, collection_id: str) -> None:
        self._do("DELETE FROM {p}access WHERE collection = ?", (collection_id,))
