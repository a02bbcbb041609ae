"""Raster fixtures: a publisher per store (HTTP client, keys, store) and test GeoTIFFs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import Role
from gis_service.settings import Settings
from gis_service.store.base import Store
from gis_service.store.factory import open_store

from ..conftest import STORES, issue_key, make_settings
from .tiffs import write_signal_tif

OWNER = "tdra"


@dataclass
class World:
    client: TestClient
    store: Store
    settings: Settings
    keys: dict[str, dict[str, str]]  # "editor", "admin", "viewer", "other" -> headers

    @property
    def raster_folder(self) -> Path:
        assert self.store.raster_files is not None
        return self.store.raster_files.folder

    def stored_files(self) -> list[Path]:
        """Every file in the raster folder (staging included)."""
        folder = self.raster_folder
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    def upload(self, cid: str, path: Path, name: str | None = None, **fields: str):
        return self.client.post(
            "/collections",
            headers=self.keys["editor"],
            data={"id": cid, **fields},
            files={"file": (name or path.name, path.read_bytes())},
        )


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory) -> Iterator[World]:
    settings = make_settings(request.param, request, tmp_path_factory.mktemp("rasters"))
    store = open_store(settings)
    keys = {role.value: issue_key(store, OWNER, role, "TDRA", "الهيئة") for role in Role}
    keys["other"] = issue_key(store, "police", Role.ADMIN, "Police", "الشرطة")
    with TestClient(create_app(settings)) as client:
        yield World(client, store, settings, keys)
    store.close()


@pytest.fixture(scope="session")
def signal_tif(tmp_path_factory) -> Path:
    return write_signal_tif(tmp_path_factory.mktemp("tifs") / "signal.tif")
