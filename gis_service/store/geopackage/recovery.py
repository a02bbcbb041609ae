"""What a writer killed mid-commit leaves in a GeoPackage store, and how it is put right.

A commit writes `.<id>.<hex>.tmp`, links it as `.versions/<id>/<n>.gpkg`, renames it over
`<id>.gpkg`, then records version n in the catalog. Killed before the link, only the
temporary file is left; between link and rename, also an unrecorded version file that
nobody ever read (removed: the current file is still version n-1); between rename and
record, the version file *is* the current file, which readers may already have seen: it is
adopted (recorded from the metadata the file carries), so no published generation is lost
and the next writer's version n+1 cannot collide with it. Leftovers are touched only under
the collection's writer lock, taken without waiting: a locked collection has a live writer.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..catalog import VersionRecord
from . import encoding
from .host import Host
from .query import read_metadata

log = logging.getLogger(__name__)
TMP_NAME = re.compile(r"\.(?P<id>.+)\.[0-9a-f]{32}\.tmp")


def lock_path(store: Host, collection_id: str) -> Path:
    return store.folder / f".{collection_id}.lock"


@contextmanager
def _unless_writing(store: Host, collection_id: str) -> Iterator[bool]:
    """The writer lock if it is free now (True), else False: a writer is at work."""
    with lock_path(store, collection_id).open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover_folder(store: Host) -> None:
    """On opening the store: every collection with a dead writer's leftovers."""
    suspects = set()
    for path in store.folder.glob(".*.tmp"):
        if found := TMP_NAME.fullmatch(path.name):
            suspects.add(found["id"])
    for folder in (store.folder / ".versions").glob("*"):
        cid = folder.name  # a version file past the latest recorded one is a leftover
        if store.version_path(cid, store.catalog.latest_version(cid) + 1).exists():
            suspects.add(cid)
    for collection_id in sorted(suspects):
        with _unless_writing(store, collection_id) as free:
            if free:
                recover_locked(store, collection_id)


def recover_locked(store: Host, collection_id: str, keep: Path | None = None) -> None:
    """Clear a dead writer's leftovers; the caller holds the collection's writer lock.

    `keep`: the caller's own temporary file.
    """
    for path in store.folder.glob(f".{collection_id}.*.tmp"):
        found = TMP_NAME.fullmatch(path.name)
        if found and found["id"] == collection_id and path != keep:
            log.warning("removing %s, left by a writer that did not finish", path.name)
            path.unlink(missing_ok=True)
    # A commit only ever writes the version after the latest recorded one: look there
    # (one stat per commit, however many versions the collection has).
    current = store.path(collection_id)
    version = store.catalog.latest_version(collection_id) + 1
    while (path := store.version_path(collection_id, version)).exists():
        if current.exists() and os.path.samefile(path, current):
            log.warning(
                "recording %s version %s: published, but its writer died", collection_id, version
            )
            store.catalog.add_version(_record_of(collection_id, version, path))
        else:
            log.warning("removing %s version %s: never published", collection_id, version)
            path.unlink(missing_ok=True)
        version += 1


def _record_of(collection_id: str, version: int, path: Path) -> VersionRecord:
    """The version record a commit writes into the file's metadata before publishing it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        document = orjson.loads(encoding.read_metadata(conn))
        info = read_metadata(conn, (0, 0)).info.model_copy(update={"version": version})
    finally:
        conn.close()
    written = document.get("record") or {}
    report = written.get("report")
    return VersionRecord(
        collection=collection_id,
        version=version,
        created=written.get("created") or _stamp(path, info.updated),
        entity=written.get("entity"),
        key_id=written.get("key_id"),
        operation=written.get("operation") or "recovered",
        features=info.feature_count,
        location=path.name,
        info=info.model_dump_json(),
        report=orjson.dumps(report).decode() if report else None,
    )


def _stamp(path: Path, updated: datetime | None) -> str:
    when = updated or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
