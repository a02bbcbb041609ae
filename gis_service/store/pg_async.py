"""PostgreSQL connections for the event loop: the hot reads without a worker thread.

A request served from the thread pool pays two thread hand-offs and a GIL convoy on every
store call; under load that cost more CPU than the query itself (py-spy, W2 in
bench/README.md). psycopg's asyncio connections wait for the server on the loop instead.
The same plans (`rows.Plan`) run here and on the blocking pool, so there is one copy of
the SQL and paging logic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .rows import Plan, run_async

T = TypeVar("T")


class AsyncPool:
    """A connection pool bound to the event loop that opens it (the app's lifespan)."""

    def __init__(self, url: str, *, size: int, options: str) -> None:
        self.url, self.size, self.options = url, size, options
        self.pool: AsyncConnectionPool | None = None
        self._opening: asyncio.Lock | None = None

    async def open(self) -> None:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self.pool is not None:
                return
            pool = AsyncConnectionPool(
                self.url,
                min_size=1,
                max_size=self.size,
                open=False,
                timeout=30,
                kwargs={"autocommit": True, "options": self.options},
            )
            await pool.open(wait=True, timeout=30)
            self.pool = pool

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        if self.pool is None:
            await self.open()
        assert self.pool is not None
        async with self.pool.connection() as conn:
            yield conn

    async def run(self, plan: Plan[T]) -> T:
        async with self.connection() as conn:
            return await run_async(conn, plan)
