"""The PostGIS store runs with a role that owns only its own schema, never a superuser."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from gis_service.errors import StoreError
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.postgis.store import PostgisStore

from ..conftest import DATA


@pytest.fixture
def admin_url(postgis_server) -> str:
    admin = postgis_server[1]
    if admin is None:
        pytest.skip("needs the superuser of a cluster the tests started")
    return admin


def _role_url(admin: str, role: str) -> str:
    return admin.replace("postgres@", f"{role}:{role}@", 1)


def test_a_superuser_is_refused(admin_url):
    with pytest.raises(StoreError, match="superuser"):
        PostgisStore(admin_url, schema=f"s_{uuid.uuid4().hex[:8]}")


def test_a_role_owning_only_its_schema_works_and_reaches_nothing_else(admin_url):
    role, schema = f"app_{uuid.uuid4().hex[:8]}", f"s_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}'")
        conn.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
        conn.execute("CREATE SCHEMA IF NOT EXISTS elsewhere")
        conn.execute("CREATE TABLE IF NOT EXISTS elsewhere.secrets (x int)")
    store = PostgisStore(_role_url(admin_url, role), schema=schema)
    try:
        import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="districts"))
        assert store.get_collection("districts").feature_count == 100
        with store.pool.connection() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM elsewhere.secrets")
    finally:
        store.close()


def test_a_missing_schema_the_role_may_not_create_is_a_clear_error(admin_url):
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}'")
    with pytest.raises(StoreError, match="AUTHORIZATION"):
        PostgisStore(_role_url(admin_url, role), schema="nowhere")


def test_a_database_without_postgis_is_a_clear_error(admin_url, postgis_url):
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with pytest.raises(StoreError, match="PostGIS is not installed"):
            PostgisStore(postgis_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
