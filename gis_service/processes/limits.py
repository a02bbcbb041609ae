"""A run's bounds: a deadline and a number of features it may hold.

Python cannot stop a thread from outside, so a run checks its budget between batches and
between chunks of vectorised work (each chunk is short); passing either bound raises
ProcessLimit, which fails the run cleanly (its job says why) instead of taking the
server's memory or a worker for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import ProcessLimit

#: Sources handled per vectorised step: short enough for the deadline to be felt.
CHUNK = 4096


class Budget:
    def __init__(
        self,
        seconds: float,
        max_features: int,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.seconds, self.max_features = seconds, max_features
        self.deadline = time.monotonic() + seconds
        self.held = 0
        self._progress = progress

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ProcessLimit(
                f"the run took longer than its time limit ({self.seconds:g} s) and was"
                " stopped; narrow the inputs (a filter) or run it again later"
            )

    def hold(self, count: int) -> None:
        """`count` more features in memory (inputs read, results made)."""
        self.held += count
        if self.held > self.max_features:
            raise ProcessLimit(
                f"the run needs more than {self.max_features:,} features in memory, its"
                " limit, and was stopped; narrow the inputs with a filter"
            )
        self.check()

    def progress(self, percent: int) -> None:
        if self._progress is not None:
            self._progress(max(0, min(100, percent)))
