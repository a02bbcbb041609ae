"""Publishing through the client on both stores: upload (frame or file, sync or job),
replace, append, versions, changes, sharing with another entity, ETag-carrying edits.
"""

from __future__ import annotations

import geopandas as gpd
import httpx
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from gis_service.client import Client, Conflict, Forbidden, NotFound, PreconditionFailed, frames
from tests.client.conftest import SYNC_MAX_BYTES
from tests.client.sources import assert_matches_source, sites, source_frame
from tests.conftest import DATA

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_upload_a_frame_and_read_it_back(writable):
    editor = writable.client(writable.editor)
    frame = sites(40)
    report = editor.upload(
        frame, "client-sites", title="Sites", title_ar="المواقع", keywords=["sites", "مواقع"]
    )
    assert report["features_stored"] == 40
    back = editor.read("client-sites")
    assert list(back["name"]) == list(frame["name"])  # Arabic, dashes, spaces: exact
    assert back["rank"].equals(frame["rank"].set_axis(back.index))
    assert str(back["opened"].dtype) == "datetime64[us, UTC]"  # a naive time is read as UTC
    assert list(back["opened"]) == list(frame["opened"].dt.tz_localize("UTC"))
    assert back["open"].equals(frame["open"].set_axis(back.index))
    assert shapely.equals_exact(back.geometry.values, frame.geometry.values, 1e-9).all()
    meta = editor.collections().loc["client-sites"]
    assert (meta.title, meta.title_ar, meta.owner, meta.visibility, meta.features) == (
        "Sites", "المواقع", "sha", "private", 40,
    )  # fmt: skip
    assert list(meta.keywords) == ["sites", "مواقع"]
    with pytest.raises(NotFound):  # private: another entity does not see it
        writable.client(writable.police).read("client-sites")
    with pytest.raises(Conflict):
        editor.upload(frame, "client-sites")
    with pytest.raises(Forbidden):
        writable.client(writable.police).upload(frame, "client-nope")


def test_upload_a_large_file_as_a_job(writable, capfd):
    path = DATA / "facilities.geojson"
    assert path.stat().st_size > SYNC_MAX_BYTES  # so the server answers 202 and a job
    editor = Client(writable.url, key=writable.editor, progress=True, poll=0.05)
    asked: list[httpx.URL] = []
    editor.http.session.event_hooks["request"] = [lambda request: asked.append(request.url)]
    report = editor.upload(path, "client-facilities", title="Facilities", visibility="public")
    assert report["features_stored"] == 5000
    assert any(url.path.startswith("/jobs/") for url in asked)  # it waited on the job
    assert "feature" in capfd.readouterr().err  # with a progress bar
    back = editor.read("client-facilities")
    assert_matches_source(back, source_frame("facilities"))  # the file's ids, as numbered
    anonymous = writable.client()
    assert len(anonymous.read("client-facilities", filter="category = 'hospital'")) == len(
        source_frame("facilities").query("category == 'hospital'")
    )


def test_replace_append_versions_and_changes(writable):
    editor = writable.client(writable.editor)
    editor.upload(sites(10), "client-sync")
    copy = editor.read("client-sync")  # the analyst's copy, at version 1
    editor.append("client-sync", sites(5, start=10))
    after_append = editor.read("client-sync")
    assert len(after_append) == 15 and list(after_append["name"][-5:]) == list(
        sites(5, start=10)["name"]
    )
    editor.replace("client-sync", sites(3, start=100))
    versions = editor.versions("client-sync")
    assert list(versions["version"]) == [1, 2, 3] or list(versions["version"]) == [3, 2, 1]
    assert dict(zip(versions["version"], versions["features"], strict=True)) == {
        1: 10, 2: 15, 3: 3,
    }  # fmt: skip
    old = editor.read("client-sync", version=1)
    assert_geodataframe_equal(old, copy)
    changes = editor.changes("client-sync", since=1)
    assert changes["version"] == 3
    # apply the feed to the copy: it must become what the server now holds
    gone = set(changes["deleted"]) | {f["id"] for f in changes["updated"]}
    fresh = changes["inserted"] + changes["updated"]
    kept = copy.drop(index=[i for i in copy.index if i in gone])
    synced = pd.concat([kept, editor_frame(editor, fresh)]).sort_index()
    now = editor.read("client-sync").sort_index()
    assert list(synced.index) == list(now.index)
    assert list(synced["name"]) == list(now["name"])


def editor_frame(editor, features: list[dict]) -> gpd.GeoDataFrame:
    schema = editor.queryables("client-sync")
    return frames.cast(frames.from_features(features, frames.CRS84), schema)


def test_share_with_another_entity(writable):
    editor, admin = writable.client(writable.editor), writable.client(writable.admin)
    police = writable.client(writable.police)
    editor.upload(sites(4), "client-shared")
    with pytest.raises(NotFound):
        police.read("client-shared")
    access = admin.share("client-shared", entities={"police": "read"})
    assert access == {"owner": "sha", "visibility": "entities", "entities": {"police": "read"}}
    assert list(police.read("client-shared")["name"]) == list(sites(4)["name"])
    with pytest.raises(NotFound):  # shared with the police, not with everyone
        writable.client().read("client-shared")
    access = admin.share("client-shared", visibility="public")  # the grant stays
    assert access["visibility"] == "public" and access["entities"] == {"police": "read"}
    assert len(writable.client().read("client-shared")) == 4
    assert admin.access("client-shared") == access


def test_edits_carry_etags(writable):
    editor = writable.client(writable.editor)
    editor.upload(sites(3), "client-edits")
    first = editor.feature("client-edits", 1)
    assert first.properties["name"] == "موقع رقم 0 — site" and first.etag
    etag = editor.patch(first, {"name": "اسم جديد"})
    assert etag and etag != first.etag
    with pytest.raises(PreconditionFailed) as error:  # the ETag read before the patch
        editor.patch(first, {"name": "lost update"})
    assert error.value.status == 412 and error.value.detail
    fresh = editor.feature("client-edits", 1)
    assert fresh.etag == etag and fresh.properties["name"] == "اسم جديد"
    new_id = editor.add("client-edits", {
        "type": "Feature", "properties": {"name": "مضاف", "rank": 9},
        "geometry": {"type": "Point", "coordinates": [55.5, 25.5]},
    })  # fmt: skip
    replaced = {**fresh.geojson, "properties": {**fresh.properties, "rank": 77}}
    editor.put(fresh, replaced)
    editor.delete(editor.feature("client-edits", 2))
    back = editor.read("client-edits")
    assert sorted(back.index) == [1, 3, int(new_id)]
    assert back.loc[1, "rank"] == 77 and back.loc[int(new_id), "name"] == "مضاف"
    with pytest.raises(PreconditionFailed):
        editor.delete(fresh)  # stale since the put
