"""OGC API – Processes through the client on both stores: results as GeoDataFrames checked
against GeoPandas and pyproj, inline frames as inputs, and jobs started without waiting.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from gis_service.client import BadRequest, NotFound
from tests.client.sources import source_frame

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

GEOD = pyproj.Geod(ellps="WGS84")
SCHOOLS = {"collection": "facilities", "filter": "category = 'school'"}
CLINICS = {"collection": "facilities", "filter": "category = 'clinic'"}


def test_nearest_clinic_to_each_school(writable):
    api = writable.client()
    got = api.run("nearest", source=SCHOOLS, target=CLINICS, k=1)
    assert isinstance(got, gpd.GeoDataFrame) and got.crs.to_string() == "OGC:CRS84"
    facilities = source_frame("facilities")
    schools = facilities[facilities.category == "school"]
    clinics = facilities[facilities.category == "clinic"]
    assert sorted(got["source_id"]) == sorted(schools.index)
    for _, row in got.head(25).iterrows():
        school = schools.loc[row["source_id"]].geometry
        _, _, d = GEOD.inv(
            np.full(len(clinics), school.x), np.full(len(clinics), school.y),
            clinics.geometry.x.to_numpy(), clinics.geometry.y.to_numpy(),
        )  # fmt: skip
        assert row["distance_m"] == pytest.approx(d.min(), rel=1e-6)


def test_join_aggregate_per_district(writable):
    api = writable.client()
    got = api.run("join-aggregate", zones={"collection": "districts"}, features=SCHOOLS,
                  properties=["capacity"])  # fmt: skip
    districts = source_frame("districts")
    facilities = source_frame("facilities")
    schools = facilities[facilities.category == "school"]
    joined = gpd.sjoin(schools, districts.rename_axis("zone"), predicate="within")
    counts = joined.groupby("zone").size()
    sums = joined.groupby("zone")["capacity"].sum()
    assert sorted(got.index) == sorted(districts.index)
    assert str(got["count"].dtype) in ("int64", "Int64")
    for zone, row in got.iterrows():
        assert row["count"] == counts.get(zone, 0)
        if row["count"]:
            assert row["capacity_sum"] == sums[zone]
        assert row["name_ar"] == districts.loc[zone, "name_ar"]


def test_an_inline_frame_as_input(writable):
    api = writable.client()
    points = gpd.GeoDataFrame(
        {"label": ["أ", "ب"]},
        geometry=[shapely.Point(55.40, 25.33), shapely.Point(55.45, 25.30)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32640")  # sent as GeoJSON in CRS84 whatever its CRS
    got = api.run("nearest", source=points, target={"collection": "districts"}, k=1)
    districts = source_frame("districts")
    for point in points.to_crs("OGC:CRS84").geometry:
        inside = districts[districts.contains(point)]
        assert len(inside) == 1  # a point inside a district is 0 m from it
    assert list(got["distance_m"]) == pytest.approx([0.0, 0.0], abs=1e-6)


def test_a_job_started_without_waiting(writable):
    api = writable.client(writable.editor)  # a job is its creator's: it needs a key
    job = api.run("join-aggregate", wait=False, zones={"collection": "districts"},
                  features=SCHOOLS, properties=["capacity"])  # fmt: skip
    assert job["status"] in ("accepted", "running", "successful") and job["jobID"]
    result = api.wait(job)
    assert api.job(job["jobID"])["status"] == "successful"
    now = api.run("join-aggregate", zones={"collection": "districts"}, features=SCHOOLS,
                  properties=["capacity"])  # fmt: skip
    assert_geodataframe_equal(result, now)
    with pytest.raises(NotFound):  # another entity does not see the job
        writable.client(writable.police).job(job["jobID"])


def test_bad_inputs_and_hidden_collections(writable):
    api = writable.client()
    with pytest.raises(BadRequest) as error:
        api.run("nearest", source=SCHOOLS, target=CLINICS, k=0)
    assert "k" in error.value.detail
    with pytest.raises(NotFound):
        api.run("nearest", source={"collection": "client-none"}, target=CLINICS)
    with pytest.raises(NotFound):
        api.run("no-such-process", source=SCHOOLS)
