"""Reading many old versions keeps a bounded number of files open (issue 10).

Pinned cursors read old versions on every page after a write; each version read used to
leave its file open in the reading thread for good.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from gis_service.ingest import IngestOptions, import_file
from gis_service.store.base import Store

VERSIONS = 40


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_reading_many_versions_keeps_few_files_open(empty_store: Store, tmp_path: Path):
    path = tmp_path / "sites.geojson"
    for n in range(VERSIONS):
        feature = {
            "type": "Feature",
            "properties": {"n": n},
            "geometry": {"type": "Point", "coordinates": [55.4, 25.3]},
        }
        path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": [feature]}))
        import_file(empty_store, path, IngestOptions(collection_id="sites"))
    info = empty_store.get_collection("sites")
    assert info.version == VERSIONS
    before = open_files()
    for version in range(1, VERSIONS + 1):
        feature = empty_store.get_feature(collection=info, fid=1, version=version)
        assert feature.properties["n"] == version - 1  # each read is of its own version
    assert open_files() - before < VERSIONS // 2
    # and the newest reads still answer from their open files
    assert empty_store.get_feature(collection=info, fid=1, version=VERSIONS).properties["n"] == 39
