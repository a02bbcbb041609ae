"""The one interface every store implements; nothing above it knows which store it has."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from anyio import to_thread

from ..domain.access import AccessPolicy
from ..domain.collection import CollectionInfo, PropertyDef, valid_collection_id
from ..domain.query import FeatureQuery
from ..errors import (
    IngestError,
    InvalidParameter,
    VersionGone,
    VersionNotFound,
)
from .catalog import Catalog, VersionRecord
from .catalog_versions import Actor  # defined with the versions it makes
from .raster_collections import RasterCollections

if TYPE_CHECKING:  # streaming imports sorting, which imports this module
    from .streaming import ExportBatch, FeatureStream

T = TypeVar("T")


@dataclass(slots=True)
class Feature:
    """One stored feature: id, WKB geometry in EPSG:4326 (or None) and typed properties."""

    fid: int
    wkb: bytes | None
    properties: dict[str, Any]


@dataclass
class Changes:
    """What changed between an old version and the current one, for keeping a copy in sync."""

    since: int
    version: int
    inserted: list[Feature]
    updated: list[Feature]
    deleted: list[int]


MAX_CHANGES = 10_000


def classify(
    old_ids: set[int], new_ids: set[int], differing: set[int]
) -> tuple[list[int], list[int], list[int]]:
    """(inserted, updated, deleted) ids, each sorted, refusing an unbounded answer."""
    inserted = sorted(new_ids - old_ids)
    deleted = sorted(old_ids - new_ids)
    updated = sorted(differing & old_ids & new_ids)
    if len(inserted) + len(updated) + len(deleted) > MAX_CHANGES:
        raise InvalidParameter(
            "since",
            f"more than {MAX_CHANGES:,} changes since that version;"
            " download the collection instead",
        )
    return inserted, updated, deleted


@dataclass
class FeaturePage:
    """A page in ascending id order, plus what the links need to know."""

    features: list[Feature]
    number_matched: int | None
    has_next: bool
    has_prev: bool


@dataclass
class FeatureBoxes:
    """Every geometry's id and CRS84 bounds (n x 4: minx, miny, maxx, maxy), for tile
    indexes. Bounds may be rounded outwards (a GeoPackage R-tree holds 32-bit floats)."""

    fids: np.ndarray
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.fids)


@dataclass
class FeatureBatch:
    """Columnar rows on their way into a store.

    `fids` are unique, increasing positive feature ids; `geometries` is a Shapely
    array in EPSG:4326 (None for missing geometry);
    `columns` maps each property name to a list of values: str, int, float, bool or
    None, with dates as "YYYY-MM-DD" and date-times as canonical UTC text
    ("YYYY-MM-DDTHH:MM:SS.sssZ", `values.storage_datetime`), which both stores take as is.
    """

    fids: np.ndarray
    geometries: np.ndarray
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.geometries)


class CollectionWriter(ABC):
    """Writes a new generation of one collection; nothing is visible before `commit`."""

    #: The smallest feature id not yet taken (above the kept rows when appending).
    next_fid: int = 1
    #: When appending: the collection as it was when this writer got its turn.
    previous: CollectionInfo | None = None
    #: Who writes and why, for the version this commit publishes.
    actor: Actor | None = None
    #: The ingest report (as JSON) of the data this commit publishes, when there is one.
    report: dict[str, Any] | None = None
    #: A create: `commit` raises Conflict (under the writer lock) if the collection exists.
    create_only: bool = False

    @abstractmethod
    def write(self, batch: FeatureBatch) -> None:
        """Add rows; a row whose id is already there replaces it (edits)."""

    @abstractmethod
    def delete(self, fids: list[int]) -> None:
        """Remove rows by id (edits of an appending writer)."""

    @abstractmethod
    def get_feature(self, fid: int) -> Feature:
        """A row of this generation as it stands (copied or written); FeatureNotFound.

        Read on the writer's own connection or copy: the writer whose turn it is needs
        nothing another writer, waiting for that turn, could be holding.
        """

    @abstractmethod
    def commit(self, info: CollectionInfo) -> None:
        """Publish atomically, replacing any previous generation."""

    @abstractmethod
    def abort(self) -> None:
        """Discard everything written; the previous generation stays as it was."""

    def __enter__(self) -> CollectionWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()


class Store(RasterCollections, ABC):
    """Typed, keyword-only operations; implementations push the work down to their engine."""

    #: Entities, keys and access policies, kept beside the features.
    catalog: Catalog

    #: How many requests one process should run at once against this store.
    concurrency: int = 4
    #: Whether calls are short in-process CPU work, best made on the event loop itself.
    runs_inline: bool = False

    @abstractmethod
    def list_collections(self) -> list[CollectionInfo]: ...

    @abstractmethod
    def get_collection(self, collection_id: str) -> CollectionInfo:
        """Raises CollectionNotFound."""

    def resolve(self, collection_id: str) -> tuple[CollectionInfo, AccessPolicy]:
        """The collection and its access policy, as every collection route needs both."""
        policy = self.catalog.get_access(collection_id)
        return self.get_collection(collection_id), policy

    @abstractmethod
    def query_features(self, *, collection: CollectionInfo, query: FeatureQuery) -> FeaturePage: ...

    @abstractmethod
    def get_feature(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        """Raises FeatureNotFound."""

    # -- the calls the HTTP layer makes from the event loop -------------------------------
    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call where it costs least.

        An in-process store's calls are short CPU work: run them on the event loop, since
        a hop to a worker thread and back costs about a millisecond of GIL hand-offs per
        request. A networked store waits on its server, so its calls go to the thread pool.
        """
        if self.runs_inline:
            return fn(*args, **kwargs)
        return await to_thread.run_sync(partial(fn, *args, **kwargs))

    async def open_async(self) -> None:
        """Anything the async reads need from the running loop (the app's lifespan)."""

    async def close_async(self) -> None:
        pass

    async def ready_async(self) -> None:
        """Raises StoreUnavailable when the store cannot answer now (`/ready`)."""

    async def resolve_async(self, collection_id: str) -> tuple[CollectionInfo, AccessPolicy]:
        return await self.call(self.resolve, collection_id)

    async def query_features_async(
        self, *, collection: CollectionInfo, query: FeatureQuery
    ) -> FeaturePage:
        return await self.call(self.query_features, collection=collection, query=query)

    async def get_feature_async(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        return await self.call(self.get_feature, collection=collection, fid=fid, version=version)

    @abstractmethod
    def feature_boxes(self, *, collection: CollectionInfo, version: int | None) -> FeatureBoxes:
        """The bounds of every feature with a geometry, read from the spatial index where
        there is one (a tile index is built from these, once per generation)."""

    async def feature_boxes_async(
        self, *, collection: CollectionInfo, version: int | None
    ) -> FeatureBoxes:
        return await self.call(self.feature_boxes, collection=collection, version=version)

    @abstractmethod
    def open_stream(
        self, *, collection: CollectionInfo, query: FeatureQuery, limit: int | None = None
    ) -> FeatureStream:
        """Every feature the query's filters select (paging aside), for a download.

        Checks and plans eagerly (errors surface before a response starts), then reads in
        batches on a connection of its own until the stream is closed.
        """

    def read_selection(
        self, *, collection: CollectionInfo, query: FeatureQuery
    ) -> list[ExportBatch]:
        """Every feature the query selects, read at once in the calling thread: a tile's
        few thousand, where a stream's own connection and planning would cost more than
        the read (a store may use the thread's connection)."""
        with self.open_stream(collection=collection, query=query) as stream:
            return list(stream)

    def replace_collection(
        self,
        *,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool = False,
        from_version: int | None = None,
        create_only: bool = False,
        deadline: float | None = None,
    ) -> CollectionWriter:
        """Start writing a collection (new or replacing); see CollectionWriter.

        With `keep_existing` the new generation starts as a copy of the current one (an
        append); `properties` must then be the collection's own. With `create_only` the
        commit refuses to replace a collection that exists by then (whoever made it).
        The writer's turn is waited for until `deadline` (`time.monotonic()`; by default the
        statement timeout from now), then WriterBusy is raised.
        """
        if not valid_collection_id(collection_id):
            raise IngestError(f"collection id {collection_id!r} is not allowed")
        writer = self._writer(collection_id, properties, keep_existing, from_version, deadline)
        writer.create_only = create_only
        return writer

    @abstractmethod
    def _writer(
        self,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool,
        from_version: int | None,
        deadline: float | None = None,
    ) -> CollectionWriter:
        """`from_version`: start from that version's rows instead of the current ones."""

    @abstractmethod
    def changes(self, *, collection_id: str, since: int) -> Changes:
        """Features inserted, updated and deleted since version `since`."""

    def version_info(self, collection_id: str, version: int) -> CollectionInfo:
        record = self.catalog.get_version(collection_id, version)
        if record is None:
            raise VersionNotFound(collection_id, version)
        if record.pruned is not None:
            raise VersionGone(collection_id, version)
        return CollectionInfo.model_validate_json(record.info)

    def restore_version(self, *, collection_id: str, version: int, actor: Actor) -> CollectionInfo:
        """A new version equal to an old one (a rollback that keeps the history)."""
        old = self.version_info(collection_id, version)
        if old.raster is not None:
            files = self.rasters()
            location = files.link(old.raster.file, collection_id)
            try:
                return self._record_raster(collection_id, location, old, actor, None, False)
            except BaseException:
                files.remove(location)
                raise
        with self.replace_collection(
            collection_id=collection_id,
            properties=old.properties,
            keep_existing=True,
            from_version=version,
        ) as writer:
            writer.actor = actor
            writer.commit(old.model_copy(update={"updated": datetime.now(UTC)}))
        return self.get_collection(collection_id)

    @abstractmethod
    def delete_collection(self, *, collection_id: str) -> None: ...

    # -- retention (store/retention.py decides; each store measures and removes) ---------
    @abstractmethod
    def version_sizes(self, collection_id: str, records: list[VersionRecord]) -> dict[int, int]:
        """Bytes on disk of each version whose data is there (the current one's once)."""

    @abstractmethod
    def drop_version(self, collection_id: str, record: VersionRecord) -> int:
        """Remove a pruned version's data; the bytes freed (0 if it was gone already)."""

    def forget_pruned(self) -> None:
        """Versions may have been pruned (here or by another process): let go of them."""

    def close(self) -> None:
        """Release connections; the default store holds none."""
