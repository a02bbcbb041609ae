"""FastAPI dependencies as `Annotated` aliases: settings, store, the resolved collection."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from ..domain.collection import CollectionInfo
from ..settings import Settings
from ..store.base import Store


# `async` because they do no I/O: FastAPI would otherwise send each to the thread pool.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def get_collection(
    store: StoreDep, collection_id: Annotated[str, Path(alias="collectionId")]
) -> CollectionInfo:
    """Resolving the id once, here, is what answers 404 for every route below it."""
    return store.get_collection(collection_id)


CollectionDep = Annotated[CollectionInfo, Depends(get_collection)]
