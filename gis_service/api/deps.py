"""FastAPI dependencies as `Annotated` aliases: settings, store, the resolved collection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from ..domain.collection import CollectionInfo
from ..settings import Settings
from ..store.base import Store

T = TypeVar("T")


# `async` because they do no I/O: FastAPI would otherwise send each to the thread pool.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


async def call_store(store: Store, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a store call where it costs least.

    An in-process store's calls are short CPU work: run them on the event loop, since a hop
    to a worker thread and back costs about a millisecond of GIL hand-offs per request.
    A networked store waits on its server, so its calls go to the thread pool.
    """
    if store.runs_inline:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def get_collection(
    store: StoreDep, collection_id: Annotated[str, Path(alias="collectionId")]
) -> CollectionInfo:
    """Resolving the id once, here, is what answers 404 for every route below it."""
    return await call_store(store, store.get_collection, collection_id)


CollectionDep = Annotated[CollectionInfo, Depends(get_collection)]
