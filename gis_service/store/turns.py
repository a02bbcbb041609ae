"""A collection's writer turn, waited for with a deadline.

One writer per collection at a time (an edit checks If-Match against the state it copies).
Every wait for the turn is bounded: a writer that cannot get it by its deadline (by default
the statement timeout from the moment it asks) raises WriterBusy (503), so editors queued
behind an import or behind each other neither hang a request nor pin a thread for long.
Within one process, writers of a collection queue on a lock here before they take anything
shared (a pooled connection): a writer that waits never holds what the one at work needs.
"""

from __future__ import annotations

import threading
import time

from ..errors import WriterBusy

#: The shortest wait handed to a blocking call (0 means "no limit" to some of them).
SHORTEST = 0.001


def deadline_after(timeout_ms: int) -> float | None:
    """A monotonic deadline `timeout_ms` from now; None (wait as long as it takes) for 0."""
    return time.monotonic() + timeout_ms / 1000 if timeout_ms > 0 else None


def left(deadline: float | None) -> float | None:
    """Seconds until the deadline (at least SHORTEST: one more try), None without one."""
    return None if deadline is None else max(deadline - time.monotonic(), SHORTEST)


def passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


class Turns:
    """Per-key locks of one store in this process (a key per collection)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def take(self, key: str, deadline: float | None, collection_id: str) -> threading.Lock:
        """The key's lock, held; WriterBusy if another thread keeps it past the deadline."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        wait = left(deadline)
        if not lock.acquire(timeout=-1 if wait is None else wait):
            raise WriterBusy(collection_id)
        return lock
