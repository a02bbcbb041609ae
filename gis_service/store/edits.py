"""Feature edits (OGC API Features Part 4) as a new generation of the collection.

An edit batch takes the collection's writer turn, checks its preconditions against the
current state under that turn, copies the current rows, applies inserts, replacements and
deletions, and publishes atomically: readers see all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import shapely

from ..domain.collection import GEOMETRY_TYPE_NAMES, CollectionInfo
from ..domain.values import format_datetime, parse_datetime_text
from ..errors import Conflict
from .base import Actor, CollectionWriter, Feature, FeatureBatch, Store


@dataclass
class EditBatch:
    """New or replacement rows (`fids` None for rows to number), and ids to delete."""

    geometries: list[object] = field(default_factory=list)  # Shapely geometries or None
    properties: list[dict[str, object]] = field(default_factory=list)
    fids: list[int | None] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


@dataclass
class Edited:
    """The ids written, and those rows as the version the edit published holds them."""

    fids: list[int]
    features: list[Feature]


def apply_edits(
    store: Store,
    collection: CollectionInfo,
    plan: Callable[[CollectionWriter], EditBatch],
    actor: Actor | None = None,
    deadline: float | None = None,
) -> Edited:
    """Apply the edits `plan(writer)` returns under the writer's turn.

    `plan` runs once no other writer can change the collection, so preconditions it checks
    (If-Match, against `writer.get_feature`) still hold when the edits land. The written
    rows are read back from the writer before it publishes: what this edit created, not
    what a later writer may have made of it by the time the answer is sent.
    """
    with store.replace_collection(
        collection_id=collection.id,
        properties=collection.properties,
        keep_existing=True,
        deadline=deadline,
    ) as writer:
        current = writer.previous or collection
        if current.properties != collection.properties:
            raise Conflict(f"collection {collection.id!r} was replaced meanwhile; GET it again")
        writer.actor = actor or Actor("edit")
        edits = plan(writer)
        next_fid = writer.next_fid
        fids = []
        for fid in edits.fids:
            if fid is None:
                fid, next_fid = next_fid, next_fid + 1
            fids.append(fid)
        if edits.deletes:
            writer.delete(edits.deletes)
        geoms = np.array(edits.geometries, dtype=object)
        if fids:
            columns = {
                p.name: [props.get(p.name) for props in edits.properties]
                for p in current.properties
            }
            writer.write(
                FeatureBatch(fids=np.array(fids, dtype=np.int64), geometries=geoms, columns=columns)
            )
        written = [writer.get_feature(fid) for fid in fids]
        writer.commit(_updated(current, geoms, len(fids), edits))
    return Edited(fids, written)


def _updated(
    info: CollectionInfo, geoms: np.ndarray, written: int, edits: EditBatch
) -> CollectionInfo:
    """The metadata after an edit: counts exact, extent grown to cover new geometry
    (a deletion does not shrink it; an extent may be larger than the data)."""
    replaced = sum(1 for fid in edits.fids if fid is not None)
    count = info.feature_count + written - replaced - len(edits.deletes)
    present = geoms[~shapely.is_missing(geoms)] if len(geoms) else geoms
    bbox = info.bbox
    geometry_type = info.geometry_type
    if len(present):
        minx, miny, maxx, maxy = shapely.total_bounds(present).tolist()
        if bbox is not None:
            minx, miny = min(minx, bbox[0]), min(miny, bbox[1])
            maxx, maxy = max(maxx, bbox[2]), max(maxy, bbox[3])
        bbox = (minx, miny, maxx, maxy)
        kinds = {GEOMETRY_TYPE_NAMES.get(int(t), "Geometry") for t in shapely.get_type_id(present)}
        if kinds != {geometry_type}:
            geometry_type = "Geometry"
    return info.model_copy(
        update={
            "feature_count": max(count, 0),
            "bbox": bbox,
            "geometry_type": geometry_type,
            "temporal_extent": _time_extent(info, edits),
            "has_null_geometry": info.has_null_geometry or len(present) < len(geoms),
            "updated": datetime.now(UTC),
        }
    )


def _time_extent(info: CollectionInfo, edits: EditBatch) -> tuple[str | None, str | None] | None:
    """The time extent grown to the edited features' times (like the spatial one)."""
    if info.temporal is None:
        return info.temporal_extent
    names = [n for n in (info.temporal.start, info.temporal.end) if n]
    stamps = [
        parse_datetime_text(str(props[name]))
        for props in edits.properties
        for name in names
        if props.get(name) is not None
    ]
    if info.temporal_extent is not None:
        stamps += [parse_datetime_text(t) for t in info.temporal_extent if t]
    if not stamps:
        return info.temporal_extent
    return (format_datetime(min(stamps)), format_datetime(max(stamps)))
