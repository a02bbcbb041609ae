"""When PostgreSQL goes away: bounded waits, a 503 at once, and reconnection by itself.

Both connection sets (psycopg's pool for threads, `async_pool.AsyncPool` on the loop) share
one `Reachability`. A failed connection attempt, or a connection the server dropped, marks
the server down: every request then answers `StoreUnavailable` (503, Retry-After) within
a fraction of a second instead of queueing behind connection attempts, and the pool's idle
connections are discarded (the server ended them all; each would fail one request). The
first connection that succeeds again marks it up. Attempts are bounded (connect timeout,
pool wait) and retried on demand, so the service recovers within a few seconds of the
database, without a restart.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ...errors import StoreUnavailable

log = logging.getLogger(__name__)

#: SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), shutting
#: down, crashed or starting (57P01-57P03), out of connection slots (53300).
_UNREACHABLE = ("08", "57P01", "57P02", "57P03", "53300")
#: While the server is known to be down, a request waits this long for a connection.
DOWN_WAIT = 0.25
RETRY_AFTER = 5


def unreachable(exc: BaseException) -> bool:
    """Whether an error of either driver (or the network) says the server is out of reach."""
    state = getattr(exc, "sqlstate", None)
    if state:
        return str(state).startswith(_UNREACHABLE)
    return isinstance(exc, psycopg.OperationalError | OSError | TimeoutError)


def unavailable() -> StoreUnavailable:
    # The driver's message names hosts and ports: it goes to the log, not to clients.
    return StoreUnavailable(
        "the database is unreachable (stopped or restarting); try again in a few seconds",
        retry_after=RETRY_AFTER,
    )


def _errors(stats: dict[str, int]) -> int:
    return stats.get("connections_errors", 0)


class Reachability:
    """Whether the server answered the last attempt to reach it."""

    def __init__(self) -> None:
        self.down = False
        self.on_down: list[Callable[[], object]] = []

    def failed(self, exc: BaseException) -> StoreUnavailable:
        """Note a failure; the error to raise for it."""
        if not self.down:
            self.down = True
            log.warning("PostgreSQL is unreachable: %s", exc)
            for callback in self.on_down:
                callback()
        return unavailable()

    def reached(self) -> None:
        if self.down:
            log.warning("PostgreSQL is reachable again")
        self.down = False


class StorePool(ConnectionPool):
    """psycopg's pool with bounded waits; errors that mean "unreachable" become 503s."""

    def __init__(self, url: str, *, size: int, wait: float, kwargs: dict[str, Any]) -> None:
        self.reach = Reachability()
        self._failures_before = 0  # failed connection attempts before the last success
        super().__init__(
            url,
            min_size=1,
            max_size=size,
            open=True,
            timeout=wait,
            # Its own retries back off (1 s, 2 s, 4 s...): give up soon, and let the next
            # request start a fresh attempt, so that recovery waits on no long back-off.
            reconnect_timeout=wait,
            kwargs={**kwargs, "connect_timeout": max(2, math.ceil(wait))},
            configure=self._connected,
        )
        self.reach.on_down.append(self.drain)

    def _connected(self, _conn: psycopg.Connection) -> None:
        self._failures_before = _errors(self.get_stats())
        self.reach.reached()

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        if timeout is None and self.reach.down:
            timeout = min(self.timeout, DOWN_WAIT)
        conn: psycopg.Connection | None = None
        try:
            with super().connection(timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            if _errors(self.get_stats()) == self._failures_before:  # all busy, none failing
                busy = "every database connection is busy; try again in a few seconds"
                raise StoreUnavailable(busy, retry_after=RETRY_AFTER) from exc
            raise self.reach.failed(exc) from exc
        except psycopg.Error as exc:
            if not self.lost(exc, conn):
                raise
            raise self.reach.failed(exc) from exc

    @staticmethod
    def lost(exc: BaseException, conn: psycopg.Connection | None) -> bool:
        """Whether `exc` means the server is gone (the pool discards a broken connection)."""
        return unreachable(exc) or (conn is not None and (conn.broken or conn.closed))
