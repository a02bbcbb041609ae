"""Opening a PostGIS store: the role, the extension and the schema it may use."""

from __future__ import annotations

import psycopg

from ...errors import StoreError
from ..sql import quote


def bootstrap(conn: psycopg.Connection, schema: str, collections_table: str) -> None:
    """Refuse a superuser; use the schema an administrator made for this role.

    The service needs nothing beyond its own schema; as a superuser any bug or stolen
    connection would reach every database on the server.
    """
    (superuser,) = conn.execute(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if superuser:
        raise StoreError(
            "the PostGIS store must not connect as a superuser: connect with a role that"
            f" owns only schema {schema!r} (see README, 'Switching to PostGIS')"
        )
    has_postgis = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if not has_postgis:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise StoreError(
                "PostGIS is not installed in this database and this role may not create it"
                f" ({exc.diag.message_primary})"
            ) from exc
    owner = conn.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    if owner is None:
        try:
            conn.execute(f"CREATE SCHEMA {quote(schema)}")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(
                f"schema {schema!r} does not exist and this role may not create it;"
                f" an administrator runs: CREATE SCHEMA {schema} AUTHORIZATION <role>"
            ) from exc
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {collections_table} ("
        " id text PRIMARY KEY, table_name text NOT NULL, info jsonb NOT NULL)"
    )
