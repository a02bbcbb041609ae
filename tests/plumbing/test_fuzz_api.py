"""Fuzzing the live API against its own OpenAPI document (schemathesis), on both stores.

The document is what clients such as GDAL's OAPIF driver read, so it must be exact: a 5xx, an
answer the document does not declare (status, media type, schema, headers), a valid request
refused or an invalid one accepted fails this test, with schemathesis's report printed.

schemathesis runs as its `st run` command in a subprocess, against a real uvicorn process:
the CLI runs its coverage phase (each constraint's boundary and violating values, which finds
loose schemas far faster than random draws) as well as fuzzing, and its report says how to
replay each failure. Its hooks (tests/fuzz_hooks.py) keep valid requests within what no schema
can say and keep the run's own key from being revoked. One worker: with two, the lead's first
run failed in the coverage phase with "SystemError: AST constructor recursion depth mismatch"
(CPython 3.11's AST constructor keeps its recursion count per interpreter, and hypothesis
parses lambdas' source in both threads at once: python/cpython#106905); a second worker saves
little on two cores anyway.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gis_service.domain.access import AccessPolicy, Entity, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import DATA, ROOT, STORES, LiveServer, issue_key, make_settings

pytestmark = pytest.mark.slow  # nothing deselects `slow`: `make test` runs it

SEED = 20240610
MAX_EXAMPLES = 50
TIME_LIMIT_S = 240  # the whole schemathesis run, per store (it takes ~1-2 minutes)
ENTITY = "fuzz"
#: id -> (file, temporal property, owner, visibility)
LAYERS = {
    "districts": ("districts.geojson", None, ENTITY, Visibility.PUBLIC),
    "coverage": ("coverage.geojson", "updated", None, Visibility.PUBLIC),
    "owned": ("districts.geojson", None, ENTITY, Visibility.PRIVATE),
    "hidden": ("districts.geojson", None, "other", Visibility.PRIVATE),
}
WRITABLE = "districts"  # public, owned by `fuzz`: anonymous writes are a 401
WRITES = (
    "createFeature|replaceFeature|updateFeature|deleteFeature|restore|replaceData|appendData"
    "|putAccess|getAccess|versions|changes"
)
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
]
#: positive_data_acceptance's own list (2xx, 3xx, 401, 403, 404, 409, 429; 5xx is left to
#: not_a_server_error), plus what each operation may rightly answer to a valid request.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
EXTRA_ACCEPTED = {
    # A made-up If-Match is a well-formed ETag that is not the feature's: a precondition
    # failure is the answer Part 4 requires, not a refusal of the data.
    "deleteFeature": ["412"],
    # Besides: a feature's properties are the collection's own (names and types), and its
    # geometry must be valid (closed rings, coordinates inside the CRS's area): neither is
    # something one document for every collection can state.
    "replaceFeature|updateFeature": ["400", "412"],
    "createFeature": ["400"],
    # A file's content (a GeoPackage, a zipped Shapefile...) is data no schema describes: a
    # generated `format: binary` value is almost never a readable layer.
    "createCollection|replaceData|appendData": ["400"],
    # A style's layers must draw this collection's properties with the paint and layout
    # properties of their type: the one body schema for every collection cannot say so.
    "put_style": ["400"],
    # A version number that was pruned is well formed but gone.
    "restore": ["410"],
    # A process's inputs name properties and collections of the data (a filter's
    # properties, numeric properties to sum, a geometry's coordinates in range): data no
    # one schema for every collection can state.
    "execute-.*": ["400"],
}
#: A missing If-Match is a missing precondition: RFC 6585 answers 428 (Part 4 says so too).
MISSING_HEADER = ["400", "401", "403", "406", "415", "422"]
EXTRA_MISSING_HEADER = {"replaceFeature|updateFeature|deleteFeature": ["428"]}
#: negative_data_rejection's list, plus: an If-Match that is no entity-tag list matches no
#: feature, and RFC 9110 answers that with 412.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429"]
EXTRA_REJECTED = {"replaceFeature|updateFeature|deleteFeature": ["412"]}


def _seed(settings: Settings) -> str:
    """Demo layers, two entities and an admin key of `fuzz`; returns the key."""
    store = open_store(settings)
    try:
        for entity in (ENTITY, "other"):
            store.catalog.add_entity(Entity(id=entity, name_en=entity, name_ar=entity))
        for cid, (name, temporal, owner, visibility) in LAYERS.items():
            store.catalog.set_access(cid, AccessPolicy(owner=owner, visibility=visibility))
            options = IngestOptions(
                collection_id=cid, title=cid, temporal=(temporal, None) if temporal else None
            )
            import_file(store, DATA / name, options)
        auth = issue_key(store, ENTITY, Role.ADMIN)
    finally:
        store.close()
    return auth["Authorization"].removeprefix("Bearer ")


def _toml(value: object) -> str:
    """TOML for strings, numbers, lists and inline tables (JSON's string escapes are TOML's)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _config(token: str) -> str:
    """The run's configuration: the key, real ids for path parameters, expected statuses."""
    lines = [
        f"seed = {SEED}",
        "workers = 1",
        "[headers]",
        f"Authorization = {_toml('Bearer ' + token)}",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml(ACCEPTED)}",
        "[checks.negative_data_rejection]",
        f"expected-statuses = {_toml(REJECTED)}",
    ]
    dictionaries = {
        "collections": [*LAYERS, "absent"],
        "features": [str(n) for n in range(1, 31)] + ["999999"],
        "versions": [1, 2, 3],
        "entities": [ENTITY, "other"],
    }
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    lines.append("[parameters]")
    for parameter, dictionary, probability in (
        ("path.collectionId", "collections", 0.9),
        ("path.featureId", "features", 0.7),
        ("path.version", "versions", 0.7),
        ("path.entityId", "entities", 0.9),
    ):
        spec = {"dictionary": dictionary, "probability": probability}
        lines.append(f"{_toml(parameter)} = {_toml(spec)}")
    # Writes reach their logic only on a collection `fuzz` owns: fixed, as the coverage phase
    # does not draw from dictionaries (GET /collections/{collectionId}/... try the others).
    lines += [
        "[[operations]]",
        f"include-operation-id-regex = {_toml(f'^({WRITES})$')}",
        "[operations.parameters]",
        f'"path.collectionId" = {_toml(WRITABLE)}',
    ]
    for check, base, extras in (
        ("positive_data_acceptance", ACCEPTED, EXTRA_ACCEPTED),
        ("negative_data_rejection", REJECTED, EXTRA_REJECTED),
        ("missing_required_header", MISSING_HEADER, EXTRA_MISSING_HEADER),
    ):
        for operations, extra in extras.items():
            lines += [
                "[[operations]]",
                f"include-operation-id-regex = {_toml(f'^({operations})$')}",
                f"[operations.checks.{check}]",
                f"expected-statuses = {_toml(base + extra)}",
            ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("kind", STORES)
def test_fuzz_api(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings = make_settings(kind, request, tmp_path)
    token = _seed(settings)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(token))
    with LiveServer(settings) as server:
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{server.url}/api?f=json",
            "--url",
            server.url,
            "--phases",
            "coverage,fuzzing",
            "--checks",
            ",".join(CHECKS),
            "--no-color",
            "--generation-database",
            "none",
        ]
        try:
            done = subprocess.run(
                command,
                cwd=tmp_path,  # its cache (.schemathesis/) stays out of the checkout
                env={
                    **os.environ,
                    "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks",
                    "PYTHONPATH": str(ROOT),
                    "GIS_FUZZ_URL": server.url,
                    "GIS_FUZZ_TOKEN": f"Bearer {token}",
                },
                capture_output=True,
                text=True,
                timeout=TIME_LIMIT_S,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"schemathesis ran over {TIME_LIMIT_S} s:\n{exc.stdout}\n{exc.stderr}")
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, f"schemathesis found problems ({kind}):\n{report}"


@pytest.mark.parametrize(
    "query",
    [
        {"datetime": "0001-01-01T00:00:00+01:00"},
        {"datetime": "2020-01-01/9999-12-31T23:30:00-01:00"},
        {"filter": "opened < TIMESTAMP('0001-01-01T00:30:00+01:00')"},
    ],
)
def test_instants_before_or_after_what_utc_holds_are_400(client, query: dict[str, str]) -> None:
    """Found by fuzzing: a valid RFC 3339 instant whose UTC falls outside years 1-9999 was a
    500 (OverflowError); the document takes the form, so the server must answer 400."""
    response = client.get("/collections/facilities/items", params=query)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] in ("datetime", "filter")
