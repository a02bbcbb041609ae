"""Broken geometries on the way in: repaired, rejected with row and reason, or refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import shapely

from gis_service.domain.query import FeatureQuery
from gis_service.errors import CollectionNotFound, IngestError
from gis_service.ingest import IngestOptions, import_file, validate
from gis_service.store.base import Store


def feature(geometry: dict | None, name: str) -> dict:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


def write(path: Path, features: list[dict]) -> Path:
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_check_batch_rejects_non_finite_and_out_of_range_and_repairs():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    geoms = np.array(
        [
            shapely.Point(1, 2),
            shapely.Point(np.nan, 2),
            shapely.LineString([(0, 0), (np.inf, 1)]),
            shapely.Point(200, 10),
            bowtie,
            None,
        ],
        dtype=object,
    )
    checked = validate.check_batch(geoms, first_row=11)
    assert checked.keep.tolist() == [True, False, False, False, True, True]
    assert [(r.row, r.reason.split()[0]) for r in checked.rejections] == [
        (12, "NaN"),
        (13, "NaN"),
        (14, "coordinates"),
    ]
    assert checked.repaired == 1
    assert shapely.is_valid(checked.geometries[4])


def test_import_reports_repairs_and_rejections(empty_store: Store, tmp_path: Path):
    path = write(
        tmp_path / "mixed.geojson",
        [
            feature({"type": "Point", "coordinates": [55.4, 25.3]}, "good"),
            feature({"type": "Point", "coordinates": [255.4, 25.3]}, "outside"),
            feature(
                {
                    "type": "Polygon",
                    "coordinates": [[[55, 25], [56, 26], [56, 25], [55, 26], [55, 25]]],
                },
                "bowtie",
            ),
            feature(None, "no geometry"),
        ],
    )
    report = import_file(empty_store, path, IngestOptions(collection_id="mixed"))
    assert (report.features_read, report.features_stored) == (4, 3)
    assert report.repaired == 1
    assert [(r.row, r.reason) for r in report.rejections] == [
        (2, "coordinates outside -180..180 / -90..90")
    ]
    assert "row 2: coordinates outside" in "\n".join(report.lines())
    info = empty_store.get_collection("mixed")
    page = empty_store.query_features(collection=info, query=FeatureQuery(limit=10))
    names = {f.properties["name"]: f for f in page.features}
    assert set(names) == {"good", "bowtie", "no geometry"}
    assert shapely.is_valid(shapely.from_wkb(names["bowtie"].wkb))


def test_absurd_vertex_counts_refuse_the_file(empty_store: Store, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(validate, "MAX_VERTICES", 1000)
    line = [[55 + i * 1e-6, 25.0] for i in range(1001)]
    path = write(
        tmp_path / "bomb.geojson",
        [
            feature({"type": "Point", "coordinates": [55.4, 25.3]}, "fine"),
            feature({"type": "LineString", "coordinates": line}, "too long"),
        ],
    )
    with pytest.raises(IngestError, match="row 2: a geometry with 1,001 vertices"):
        import_file(empty_store, path, IngestOptions(collection_id="bomb"))
    with pytest.raises(CollectionNotFound):
        empty_store.get_collection("bomb")


def shapefile_zip(tmp_path: Path, encoding: str, keep_cpg: bool) -> Path:
    import zipfile

    import geopandas as gpd

    names = ["مدرسة النور", "مستشفى الكويت", "Café"]
    frame = gpd.GeoDataFrame(
        {"name": names},
        geometry=gpd.points_from_xy([55.4, 55.5, 55.6], [25.3, 25.3, 25.3]),
        crs=4326,
    )
    folder = tmp_path / encoding
    folder.mkdir()
    frame.to_file(folder / "s.shp", encoding=encoding)
    dbf = folder / "s.dbf"
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no code page mark, as in many files in the wild
    dbf.write_bytes(bytes(raw))
    archive = tmp_path / f"{encoding}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if keep_cpg or part.suffix != ".cpg":
                zf.write(part, part.name)
    return archive


@pytest.mark.parametrize("encoding", ["cp1256", "utf-8"])
def test_arabic_shapefile_without_cpg(empty_store: Store, tmp_path: Path, encoding: str):
    path = shapefile_zip(tmp_path, encoding, keep_cpg=False)
    import_file(empty_store, path, IngestOptions(collection_id="shp"))
    info = empty_store.get_collection("shp")
    page = empty_store.query_features(collection=info, query=FeatureQuery(limit=10))
    names = [f.properties["name"] for f in page.features]
    if encoding == "cp1256":
        assert names[:2] == ["مدرسة النور", "مستشفى الكويت"]  # "Café" has no cp1256 form
    else:
        assert names == ["مدرسة النور", "مستشفى الكويت", "Café"]


def test_a_file_broken_part_way_is_a_clear_error(empty_store: Store, tmp_path: Path):
    import geopandas as gpd
    import pyogrio

    frame = gpd.GeoDataFrame(
        {"n": range(50_000)},
        geometry=gpd.points_from_xy([55.4] * 50_000, [25.3] * 50_000),
        crs=4326,
    )
    path = tmp_path / "big.fgb"
    pyogrio.write_dataframe(frame, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(IngestError):
        import_file(empty_store, path, IngestOptions(collection_id="cut"))
    with pytest.raises(CollectionNotFound):
        empty_store.get_collection("cut")


def test_empty_geometries_are_rejected_missing_ones_kept():
    geoms = np.array([shapely.Point(), None, shapely.Point(55, 25)], dtype=object)
    checked = validate.check_batch(geoms, first_row=1)
    assert checked.keep.tolist() == [False, True, True]
    assert [(r.row, r.reason) for r in checked.rejections] == [(1, "empty geometry")]


def test_unparseable_wkt_in_csv_is_reported(empty_store: Store, tmp_path: Path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,wkt\n"
        '"good","POINT (55.4 25.3)"\n'
        '"broken","POINT (55.4 oops)"\n'
        '"no geometry",""\n'
        '"also good","POINT (55.5 25.3)"\n',
        encoding="utf-8",
    )
    report = import_file(empty_store, path, IngestOptions(collection_id="csv"))
    assert [(r.row, r.reason) for r in report.rejections] == [(2, "unparseable WKT")]
    assert (report.features_read, report.features_stored) == (4, 3)
    info = empty_store.get_collection("csv")
    page = empty_store.query_features(collection=info, query=FeatureQuery(limit=10))
    assert [f.properties["name"] for f in page.features] == ["good", "no geometry", "also good"]
    assert page.features[1].wkb is None
