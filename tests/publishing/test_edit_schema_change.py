"""An edit whose collection was replaced with another schema meanwhile answers 409 on both
stores (PostGIS failed copying rows into the stale column layout: 500)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gis_service.errors import Conflict
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.base import Store
from gis_service.store.edits import EditBatch, apply_edits

from ..conftest import point_layer


def _import(store: Store, path: Path, layer: dict) -> None:
    path.write_bytes(orjson.dumps(layer))
    import_file(store, path, IngestOptions(collection_id="sites"))


@pytest.mark.parametrize("extra", [{"note": "more columns", "kind": "new"}, {"kind": "new"}])
def test_an_edit_of_a_replaced_schema_is_409_and_changes_nothing(
    empty_store: Store, tmp_path: Path, extra: dict
):
    _import(empty_store, tmp_path / "a.geojson", point_layer(3, number="n"))
    stale = empty_store.get_collection("sites")
    # replaced meanwhile by a layer with more properties (columns), or as many but renamed
    other = point_layer(2, number="n" if len(extra) > 1 else None, **extra)
    _import(empty_store, tmp_path / "b.geojson", other)
    replaced = empty_store.get_collection("sites")
    with pytest.raises(Conflict):
        apply_edits(empty_store, stale, lambda writer: EditBatch(deletes=[1]))
    after = empty_store.get_collection("sites")
    assert after.version == replaced.version and after.feature_count == 2
