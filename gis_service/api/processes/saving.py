"""`save_as`: a result kept as a new collection of the caller's entity, private.

The id is claimed as an upload's create claims it (publishing/claims.py: one create wins,
the policy is in force before any data is visible, `create_only` refuses a collection that
appeared meanwhile). The version it publishes records the process, its inputs and the
versions of the input collections read, in the version's report: `/collections/{id}/
versions` shows where the data came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely

from ...domain.access import AccessPolicy, Visibility
from ...domain.collection import GEOMETRY_TYPE_NAMES, CollectionInfo, PropertyType
from ...domain.values import parse_datetime_text, storage_datetime
from ...errors import CollectionNotFound, Conflict
from ...processes.results import Result
from ...store.base import Actor, FeatureBatch, Store
from ..publishing.claims import CreateClaim
from .request import Run

ROWS = 5000


@dataclass(frozen=True)
class Saved:
    collection: str
    version: int
    features: int

    def document(self) -> dict[str, Any]:
        return {"collection": self.collection, "version": self.version}


def refuse_taken(store: Store, collection_id: str) -> None:
    """Before running: an id that exists is a 409 at once, not after the work."""
    try:
        store.get_collection(collection_id)
    except CollectionNotFound:
        return
    raise Conflict(f"collection {collection_id!r} exists already")


def save_result(store: Store, run: Run, result: Result, token: str) -> Saved:
    cid: str = run.values["save_as"]
    entity = run.principal.entity
    policy = AccessPolicy(owner=entity, visibility=Visibility.PRIVATE)
    claim = CreateClaim.take(store, cid, policy)
    try:
        previous = store.catalog.access_text(cid)
        store.catalog.set_access(cid, policy)
        try:
            info = _write(store, run, result, cid)
        except BaseException:
            store.catalog.restore_access(cid, policy, previous)
            raise
    finally:
        claim.release()
    return Saved(cid, info.version, len(result))


def _write(store: Store, run: Run, result: Result, cid: str) -> CollectionInfo:
    with store.replace_collection(
        collection_id=cid, properties=result.properties, create_only=True
    ) as writer:
        writer.actor = Actor(
            f"process:{run.process.id}", run.principal.entity, run.principal.key_id
        )
        writer.report = {
            "process": run.process.id,
            "inputs": run.inputs_record(),
            "features": len(result),
        }
        for lo in range(0, len(result), ROWS):
            writer.write(_batch(result, lo, lo + ROWS, writer.next_fid + lo))
        writer.commit(_info(result, cid, run.process.title))
    return store.get_collection(cid)


def _batch(result: Result, lo: int, hi: int, first_fid: int) -> FeatureBatch:
    geoms = result.geoms[lo:hi]
    columns: dict[str, list[Any]] = {}
    for p in result.properties:
        values = result.columns[p.name][lo:hi]
        if p.type is PropertyType.DATETIME:
            values = [
                None if v is None else storage_datetime(parse_datetime_text(v)) for v in values
            ]
        columns[p.name] = values
    fids = np.arange(first_fid, first_fid + len(geoms), dtype=np.int64)
    return FeatureBatch(fids, geoms, columns)


def _info(result: Result, cid: str, title: str) -> CollectionInfo:
    kinds = set(shapely.get_type_id(result.geoms).tolist()) if len(result) else set()
    kind = GEOMETRY_TYPE_NAMES.get(kinds.pop(), "Geometry") if len(kinds) == 1 else "Geometry"
    bounds = shapely.total_bounds(result.geoms) if len(result) else None
    bbox = tuple(float(v) for v in bounds) if bounds is not None else None
    return CollectionInfo(
        id=cid,
        title=f"{title}: {cid}",
        description=f"The result of the {title.lower()} process.",
        geometry_type=kind,
        properties=result.properties,
        bbox=bbox,  # type: ignore[arg-type]
        feature_count=len(result),
        updated=datetime.now(UTC),
    )
