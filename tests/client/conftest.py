"""A writable live server per store for the client's publishing, editing and process tests.

The session's demo server (`live_server`) is shared read-only; these tests publish, share
and edit, so each store kind gets a server of its own with the demo layers the processes
read (facilities, districts) and keys of two entities. Uploads above 64 kB become
background jobs here, so both the synchronous and the job path are exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gis_service.client import Client
from gis_service.domain.access import Role
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store
from tests.conftest import DEMO_LAYERS, STORES, LiveServer, issue_key, make_settings

SYNC_MAX_BYTES = 64 * 1024


@dataclass
class Writable:
    """The server and a key for each role the tests play."""

    url: str
    editor: str  # entity `sha`, editor
    admin: str  # entity `sha`, admin (shares)
    police: str  # entity `police`, viewer
    other_editor: str  # entity `police`, editor

    def client(self, key: str | None = None) -> Client:
        return Client(self.url, key=key, progress=False, poll=0.05, backoff=0.05)


def _token(header: dict[str, str]) -> str:
    return header["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module", params=STORES)
def writable(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Writable]:
    settings = make_settings(
        request.param,
        request,
        tmp_path_factory.mktemp("client"),
        upload_sync_max_bytes=SYNC_MAX_BYTES,
        versions_keep=10,
    )
    store = open_store(settings)
    try:
        for cid in ("facilities", "districts"):
            spec = DEMO_LAYERS[cid]
            import_file(
                store,
                spec["path"],
                IngestOptions(collection_id=cid, title=spec["title"], temporal=spec["temporal"]),
            )
        keys = dict(
            editor=issue_key(store, "sha", Role.EDITOR, "Health Authority", "هيئة الصحة"),
            admin=issue_key(store, "sha", Role.ADMIN),
            police=issue_key(store, "police", Role.VIEWER, "Police", "الشرطة"),
            other_editor=issue_key(store, "police", Role.EDITOR),
        )
    finally:
        store.close()
    with LiveServer(settings) as server:
        yield Writable(server.url, **{k: _token(v) for k, v in keys.items()})
