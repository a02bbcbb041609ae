"""What the writer, the streams and the retention use of the PostGIS store that owns them.

They take this rather than `PostgisStore`, so the store module imports them and no
module of the package imports the store back.
"""

from __future__ import annotations

from typing import Protocol

import psycopg

from ...domain.collection import CollectionInfo
from ..turns import Turns
from .pool import StorePool


class Host(Protocol):
    schema: str
    collections_table: str
    statement_timeout_ms: int
    pool: StorePool
    turns: Turns

    def lookup(
        self, conn: psycopg.Connection, collection_id: str, version: int | None = None
    ) -> tuple[str, CollectionInfo]:
        """The current (or a version's) table of a collection, and its info."""
        ...
