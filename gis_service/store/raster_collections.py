"""Raster collections on either store: COG files beside the shared catalog.

A raster collection's versions are COGs in `RasterStorage` and rows of the one catalog
(`catalog_rasters`), so both stores get it from here, mixed into `Store`; a store only
supplies its catalog, its folder or bucket, and its vector reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ..domain.collection import CollectionInfo, valid_collection_id
from ..errors import CollectionNotFound, Conflict, IngestError, StoreError
from .catalog import Catalog, VersionRecord
from .catalog_versions import Actor, stamp
from .raster_files import RasterStorage, is_raster_location


class RasterCollections:
    """The raster half of `Store` (its vector reads are the other half's)."""

    catalog: Catalog
    #: Where raster collections' COGs lie (set by the factory; see raster_files.py).
    raster_files: RasterStorage | None = None

    def get_collection(self, collection_id: str) -> CollectionInfo:
        raise NotImplementedError

    def version_sizes(self, collection_id: str, records: list[VersionRecord]) -> dict[int, int]:
        raise NotImplementedError

    def drop_version(self, collection_id: str, record: VersionRecord) -> int:
        raise NotImplementedError

    def rasters(self) -> RasterStorage:
        if self.raster_files is None:
            raise StoreError("this store has no raster folder (GIS_RASTER_DIR)")
        return self.raster_files

    def raster_collection(self, collection_id: str) -> CollectionInfo | None:
        """The current version of a raster collection, or None (no such raster)."""
        text = self.catalog.raster_info(collection_id)
        return None if text is None else CollectionInfo.model_validate_json(text)

    def with_rasters(self, infos: list[CollectionInfo]) -> list[CollectionInfo]:
        """Vector collections and raster ones together, in id order."""
        rasters = [CollectionInfo.model_validate_json(t) for t in self.catalog.raster_infos()]
        return sorted([*infos, *rasters], key=lambda info: info.id)

    def publish_raster(
        self,
        *,
        collection_id: str,
        staged: Any,
        info: CollectionInfo,
        actor: Actor,
        report: dict[str, Any] | None = None,
        create_only: bool = False,
    ) -> CollectionInfo:
        """Make a complete staged COG the collection's new current version.

        The file is placed first and recorded after, in one catalog transaction; if the
        record fails (a create that lost, a vector collection of that id), the file goes.
        """
        if not valid_collection_id(collection_id):
            raise IngestError(f"collection id {collection_id!r} is not allowed")
        files = self.rasters()
        location = files.place(staged, collection_id)
        try:
            if self._is_vector(collection_id):
                raise Conflict(f"collection {collection_id!r} holds features, not a raster")
            return self._record_raster(collection_id, location, info, actor, report, create_only)
        except BaseException:
            files.remove(location)
            raise

    def _is_vector(self, collection_id: str) -> bool:
        try:
            return not self.get_collection(collection_id).is_coverage
        except CollectionNotFound:
            return False

    def _record_raster(
        self,
        collection_id: str,
        location: str,
        info: CollectionInfo,
        actor: Actor,
        report: dict[str, Any] | None,
        create_only: bool,
    ) -> CollectionInfo:
        assert info.raster is not None
        now = datetime.now(UTC)
        made: dict[str, CollectionInfo] = {}

        def record(version: int) -> VersionRecord:
            raster = info.raster.model_copy(update={"file": location})  # type: ignore[union-attr]
            new = info.model_copy(update={"version": version, "updated": now, "raster": raster})
            made["info"] = new
            return VersionRecord(
                collection=collection_id,
                version=version,
                created=stamp(now),
                entity=actor.entity,
                key_id=actor.key_id,
                operation=actor.operation,
                features=0,
                location=location,
                info=new.model_dump_json(),
                report=None if report is None else orjson.dumps(report).decode(),
            )

        self.catalog.publish_raster(collection_id, record, create_only=create_only)
        return made["info"]

    def version_disk_sizes(
        self, collection_id: str, records: list[VersionRecord]
    ) -> dict[int, int]:
        """`version_sizes` for any collection: a raster version's size is its COG's."""
        rasters = [r for r in records if is_raster_location(r.location)]
        vectors = [r for r in records if not is_raster_location(r.location)]
        sizes = self.version_sizes(collection_id, vectors) if vectors else {}
        for record in rasters:
            size = None if record.pruned else self.rasters().size(record.location)
            if size is not None:
                sizes[record.version] = size
        return sizes

    def drop_any_version(self, collection_id: str, record: VersionRecord) -> int:
        """`drop_version` for any collection: a raster version's COG is removed."""
        if is_raster_location(record.location):
            return self.rasters().remove(record.location)
        return self.drop_version(collection_id, record)
