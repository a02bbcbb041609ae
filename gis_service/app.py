"""`create_app(settings)`: everything is built here, nothing at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import swagger_ui_bundle
from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import __version__
from .api.audit import record as audit_record
from .api.audit import routes as audit_routes
from .api.common import landing, webmap
from .api.coverages import routes as coverages
from .api.features import collections, items, queryables
from .api.maps import routes as maps
from .api.plumbing.html.render import STATIC, make_environment, maplibre_assets
from .api.plumbing.oidc import OidcVerifier
from .api.plumbing.problems import add_exception_handlers
from .api.processes import jobs as process_jobs
from .api.processes import routes as process_routes
from .api.publishing import editing, jobs, uploads, versions
from .api.sharing import access, entities
from .api.styles import routes as styles
from .api.tiles import tiles, tilesets
from .settings import Settings
from .store import retention
from .store.factory import open_store
from .tiles.service import TileService

#: In the order their paths are matched (the first route that fits a path answers it).
#: Tiles come early: a map asks for dozens at a time, and each router passed over costs
#: a cached tile ~5 µs (a third of its time behind fifteen routers); no other route's
#: path has a tile's shape (tests/tiles/test_tile_caching.py checks).
ROUTERS = (
    landing.router,
    tiles.router,
    webmap.router,
    collections.router,
    items.router,
    queryables.router,
    editing.router,
    versions.router,
    access.router,
    entities.router,
    uploads.router,
    audit_routes.router,
    jobs.router,
    process_routes.router,
    process_jobs.router,
    tilesets.router,
    styles.router,
    coverages.router,
    maps.router,
)


def _mount_static(app: FastAPI) -> None:
    """The pages' own files, and the registry packages' (Swagger UI, MapLibre GL JS)."""
    app.mount(
        "/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger"
    )
    app.mount("/static/maplibre", StaticFiles(directory=maplibre_assets()), name="maplibre")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store = open_store(settings)
        # Threads beyond what the store can use only fight over the GIL (SQLite calls back
        # into Python per row): size the request thread pool to the store.
        to_thread.current_default_thread_limiter().total_tokens = store.concurrency
        app.state.audit = audit_record.AuditLog(store)
        app.state.tiles = TileService(
            store, settings.tile_cache_mb * 2**20, settings.tile_index_features
        )
        pruning: asyncio.Task[None] | None = None
        try:
            await store.open_async()
            if settings.versions_prune_interval_s:  # every worker: their claims never clash
                pruning = asyncio.create_task(
                    retention.prune_periodically(
                        store, retention.policy_of(settings), settings.versions_prune_interval_s
                    )
                )
            yield
        finally:
            if pruning is not None:  # a pass under way finishes first (it holds the store)
                pruning.cancel()
                with suppress(asyncio.CancelledError):
                    await pruning
            app.state.audit.flush()
            await store.close_async()
            store.close()

    app = FastAPI(
        title=settings.title,
        description=settings.description,
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # the OGC API definition at /api is written by hand
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.leases = retention.CursorLeases(settings.versions_lease_s)
    app.state.templates = make_environment()
    app.state.oidc = OidcVerifier(settings) if settings.oidc_issuer else None
    add_exception_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(audit_record.AuditMiddleware)
    _mount_static(app)
    return app
