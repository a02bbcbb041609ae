"""Retention: which old versions to prune, and the leases that keep readers' versions.

Every write publishes a whole new generation, and every generation stays as a version, so
without pruning a large layer's history grows by its full size per edit. A version is
pruned when it is not the current one, not among the newest `keep_versions`, older than
`keep_days`, and no lease holds it: a running download takes one for its duration, and a
cursor pinned to a version (domain/query.py) keeps one for its lifetime. Pruning removes
the data (a file, a table) and keeps the record, marked pruned: reading it answers 410.

Many processes may prune at once (every server worker runs a periodic pass, and the CLI
can too): each version is claimed in the catalog by one upsert (catalog_versions.py), and
only the one process whose claim succeeded removes the data.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from anyio import CapacityLimiter, to_thread

from ..errors import CollectionNotFound, VersionGone, VersionNotFound
from .catalog_versions import VersionRecord, stamp

if TYPE_CHECKING:
    from ..settings import Settings
    from .base import Store

log = logging.getLogger(__name__)
#: A claim whose data is still there this long after (its claimer died) is finished by others.
ORPHAN_AFTER = timedelta(minutes=10)
#: Leases are written at most this often per version and process (never on every request).
REFRESH_S = 60.0
#: A download's lease outlives its last refresh by this much (then lapses by itself).
DOWNLOAD_LEASE_S = 3 * REFRESH_S


@dataclass(frozen=True)
class RetentionPolicy:
    keep_days: float
    keep_versions: int


@dataclass(frozen=True)
class Pruned:
    """One version whose data a pruning pass removed, and the bytes that freed."""

    collection: str
    version: int
    bytes: int


def prunable(
    records: list[VersionRecord], current: int, policy: RetentionPolicy, now: datetime
) -> list[VersionRecord]:
    """The versions the policy lets go (leases aside): old, beyond the newest few, and
    never the current one or anything newer."""
    newest = set(sorted(r.version for r in records)[-policy.keep_versions :])
    cutoff = stamp(now - timedelta(days=policy.keep_days))
    return [
        r
        for r in records
        if r.pruned is None
        and r.version < current
        and r.version not in newest
        and r.created < cutoff
    ]


def prune(
    store: Store,
    policy: RetentionPolicy,
    *,
    collection: str | None = None,
    now: datetime | None = None,
) -> list[Pruned]:
    """One pass over every collection (or one): claim what the policy lets go, remove it."""
    now = now or datetime.now(UTC)
    done: list[Pruned] = []
    names = [collection] if collection else store.catalog.versioned_collections()
    for name in names:
        try:
            current = store.get_collection(name).version
        except CollectionNotFound:
            continue  # being created or deleted: nothing of it is old
        records = store.catalog.versions(name)
        for record in prunable(records, current, policy, now):
            if store.catalog.claim_prune(name, record.version, now):
                done.append(Pruned(name, record.version, _drop(store, record)))
        orphaned = stamp(now - ORPHAN_AFTER)
        for record in records:  # claimed long ago, data still there: its claimer died
            orphan = record.pruned is not None and record.pruned < orphaned
            if orphan and (freed := _drop(store, record)):
                done.append(Pruned(name, record.version, freed))
    store.forget_pruned()
    if store.raster_files is not None and collection is None:
        # COGs no record names: a writer died between placing one and recording it
        store.raster_files.sweep(store.catalog.raster_locations(), now=now.timestamp())
    return done


def _drop(store: Store, record: VersionRecord) -> int:
    try:
        return store.drop_any_version(record.collection, record)
    except Exception:  # e.g. a long reader's lock on PostGIS: the next pass finishes it
        log.exception("could not remove version %s of %r", record.version, record.collection)
        return 0


async def prune_periodically(store: Store, policy: RetentionPolicy, interval_s: float) -> None:
    """The server's pruning: every `interval_s`, at a random phase per process (so many
    workers do not all start together; their claims make overlapping passes safe)."""
    limiter = CapacityLimiter(1)  # its own thread: the request pool stays the requests'
    delay = random.uniform(0.1, 1.0) * interval_s
    while True:
        await asyncio.sleep(delay)
        delay = interval_s
        try:
            pruned = await to_thread.run_sync(prune, store, policy, limiter=limiter)
        except Exception:
            log.exception("pruning old versions failed")
            continue
        if pruned:
            freed = sum(p.bytes for p in pruned)
            log.info("pruned %d old version(s), %d bytes freed", len(pruned), freed)


def hold(store: Store, collection_id: str, version: int, seconds: float) -> None:
    """Keep a version a reader is about to read; VersionGone if it is pruned already,
    VersionNotFound if it never existed."""
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    if not store.catalog.hold_version(collection_id, version, until):
        if store.catalog.get_version(collection_id, version) is None:
            raise VersionNotFound(collection_id, version)
        raise VersionGone(collection_id, version)


class CursorLeases:
    """The versions this process's cursors pin, leased at most once a minute each, so the
    pages themselves never write: `due` is a dict look-up on the hot path."""

    def __init__(self, lifetime_s: float, size: int = 4096) -> None:
        self.lifetime_s = lifetime_s
        self.size = size
        self._last: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()

    def due(self, collection_id: str, version: int) -> bool:
        """Whether this process should (re)write the lease now; True once a minute."""
        key, now = (collection_id, version), time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < REFRESH_S:
            return False
        with self._lock:
            if len(self._last) >= self.size:
                self._last.clear()
            self._last[key] = now
        return True

    def allowance(self, store: Store, collection_id: str, version: int) -> float:
        """Seconds a cursor may still keep `version`: `lifetime_s`, but never beyond
        `lifetime_s` after the write that superseded it, so that no reader, however often
        it pages (or forges a cursor), holds old data and its disk for ever."""
        successor = store.catalog.get_version(collection_id, version + 1)
        if successor is None:
            return self.lifetime_s
        superseded = datetime.strptime(successor.created, "%Y-%m-%dT%H:%M:%SZ")
        end = superseded.replace(tzinfo=UTC) + timedelta(seconds=self.lifetime_s)
        return min(self.lifetime_s, (end - datetime.now(UTC)).total_seconds())

    def hold(self, store: Store, collection_id: str, version: int) -> None:
        """Write the lease (after the answer is sent); a pruned version has nothing to keep."""
        try:
            seconds = self.allowance(store, collection_id, version)
            if seconds > 0:
                hold(store, collection_id, version, seconds)
        except (VersionGone, VersionNotFound):  # pruned, or its collection deleted meanwhile
            pass
        except Exception:
            self._last.pop((collection_id, version), None)  # try again with the next page
            log.exception("could not lease version %s of %r", version, collection_id)


def policy_of(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(settings.versions_keep_days, settings.versions_keep)
