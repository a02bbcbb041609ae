"""Downloads: `/collections/{id}/items?f=geojson|csv|gpkg|shp|fgb|parquet|kml`.

Every feature the request's filters select (bbox, datetime, properties, filter), not a
page; an explicit `limit` caps the count and paging parameters do not apply. Everything
that can be refused is checked before the response starts. Text formats are written
batch by batch as they are sent; file formats are built in a temporary folder (the
client's disconnect stops the build), then sent and deleted. Blocking work runs in
worker threads, and the store's connection is released however the stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import anyio
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...domain.collection import CollectionInfo
from ...domain.crs import ServiceCrs
from ...domain.query import FeatureQuery
from ...errors import Busy, InvalidParameter, VersionGone, VersionNotFound
from ...exports import kml, text
from ...exports.formats import FORMATS, DownloadFormat, attachment
from ...exports.selection import Export
from ...store import retention
from ...store.base import Store
from ...store.retention import DOWNLOAD_LEASE_S, REFRESH_S
from ...store.streaming import ExportBatch, both
from ..audit.record import note
from ..plumbing.links import link, with_params
from .shaping import Shaping

DOWNLOADS = frozenset(FORMATS)
STREAMED = {"geojson": text.geojson, "csv": text.csv_text, "kml": kml.kml}
CHUNK_BYTES = 1 << 20
INLINE_DOWNLOADS = 4  # an in-process store's downloads at once (CPU-bound: more only queue)
POLL_SECONDS = 0.5


class Cancelled(Exception):
    """The client went away while its file was being built."""


def download_links(url: str, params: dict[str, str]) -> list[dict[str, str]]:
    """`enclosure` links: the selection these parameters make, in every download format."""
    kept = {k: v for k, v in params.items() if k not in ("f", "cursor", "offset", "limit")}
    return [
        link(with_params(url, {**kept, "f": f.name}), "enclosure", f.media_type, f.title)
        for f in FORMATS.values()
    ]


def explicit_limit(request: Request) -> int | None:
    """A download is capped only by a `limit` given explicitly (parse_query checked it)."""
    text_value = request.query_params.get("limit")
    return None if text_value is None else int(text_value)


class _Slot:
    """One of the process's download places, given back exactly once."""

    def __init__(self, slots: threading.BoundedSemaphore) -> None:
        self._slots: threading.BoundedSemaphore | None = slots

    def release(self) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.release()


def _take_slot(request: Request, store: Store) -> _Slot:
    """A download holds a store connection (and a worker thread) for as long as it runs:
    a pooled store keeps half its connections for everything else."""
    state = request.app.state
    slots = getattr(state, "download_slots", None)
    if slots is None:
        size = INLINE_DOWNLOADS if store.runs_inline else max(1, store.concurrency // 2)
        slots = state.download_slots = threading.BoundedSemaphore(size)
    if not slots.acquire(blocking=False):
        raise Busy("as many downloads as this server runs at once are running; try again soon")
    return _Slot(slots)


async def download(
    request: Request,
    info: CollectionInfo,
    store: Store,
    query: FeatureQuery,
    shaping: Shaping,
    name: str,
    crs: ServiceCrs,
) -> Response:
    if name == "kml" and not crs.is_crs84:
        raise InvalidParameter("crs", "KML is always in CRS84 (its specification says so)")
    slot = _take_slot(request, store)
    try:
        return await _download(request, info, store, query, shaping, FORMATS[name], slot, crs)
    except BaseException:
        slot.release()
        raise


async def _download(
    request: Request,
    info: CollectionInfo,
    store: Store,
    query: FeatureQuery,
    shaping: Shaping,
    fmt: DownloadFormat,
    slot: _Slot,
    crs: ServiceCrs,
) -> Response:
    limit = explicit_limit(request)
    if fmt.name == "fgb" and shaping.skip_geometry:
        raise InvalidParameter("skipGeometry", "a FlatGeobuf file needs geometry")
    if query.version is not None:  # kept from pruning while it is read (store/retention.py)
        await run_in_threadpool(retention.hold, store, info.id, query.version, DOWNLOAD_LEASE_S)
    geometry_type: str | None = None
    if fmt.name in ("shp", "fgb") and not shaping.skip_geometry:
        # One declared type (and heights or not) per file: ask the data, before anything.
        codes = await run_in_threadpool(_type_codes, store, info, query, limit)
        from ...exports import ogr

        kind = ogr.shapefile_type if fmt.name == "shp" else ogr.flatgeobuf_type
        geometry_type = kind(codes)
    # Opening may plan a sort of the whole selection: never on the event loop.
    stream = await run_in_threadpool(store.open_stream, collection=info, query=query, limit=limit)
    try:
        export = Export.of(
            stream.info,
            shaping.properties,
            geometry=not shaping.skip_geometry,
            crs=None if crs.is_crs84 else crs,
            xy_order=fmt.name != "geojson",  # GeoJSON as the pages: the authority's order
        )
    except BaseException:
        await run_in_threadpool(stream.close)
        raise
    headers = {"Content-Disposition": attachment(info.id, fmt.extension)}
    if fmt.name == "geojson":
        headers["Content-Crs"] = f"<{crs.uri}>"
    note(request, info.id, "download", 0)
    if request.method == "HEAD":
        await run_in_threadpool(stream.close)
        slot.release()
        return Response(media_type=fmt.media_type, headers=headers)
    counted = _counted(_held(stream, store, info.id, query.version), request, info.id)
    if fmt.streamed:
        chunks = STREAMED[fmt.name](counted, export)
        release = both(stream.close, slot.release)
        return StreamingResponse(_pump(chunks, release), media_type=fmt.media_type, headers=headers)
    folder = Path(tempfile.mkdtemp(prefix="gis-download-"))
    cancel = threading.Event()
    batches = _cancellable(counted, cancel)
    build = partial(_build, fmt, export, folder, geometry_type, batches)
    try:
        path = await _while_connected(request, cancel, build)
    except Cancelled:
        slot.release()
        return Response(status_code=499)  # nobody is listening; the audit keeps the status
    finally:
        await run_in_threadpool(stream.close)
    headers["Content-Length"] = str(path.stat().st_size)
    release = both(partial(shutil.rmtree, folder, ignore_errors=True), slot.release)
    return StreamingResponse(
        _pump(_file_chunks(path), release), media_type=fmt.media_type, headers=headers
    )


def _type_codes(
    store: Store, info: CollectionInfo, query: FeatureQuery, limit: int | None
) -> set[int]:
    from ...exports import ogr

    with store.open_stream(collection=info, query=query, limit=limit) as scan:
        return ogr.wkb_type_codes(scan)


def _build(
    fmt: DownloadFormat,
    export: Export,
    folder: Path,
    geometry_type: str | None,
    batches: Iterable[ExportBatch],
) -> Path:
    """Write the file (in a worker thread); the folder goes away unless this succeeds."""
    # GDAL and Arrow load on the first such download only: most workers never need them.
    from ...exports import ogr, parquet

    try:
        if fmt.name == "parquet":
            return parquet.write_parquet(batches, export, folder / f"{export.info.id}.parquet")
        layer_type = geometry_type or ogr.layer_type(export.info.geometry_type)
        return ogr.write_ogr(fmt.name, batches, export, folder, geometry_type=layer_type)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


async def _while_connected(
    request: Request, cancel: threading.Event, work: Callable[[], Path]
) -> Path:
    """Run `work` in a worker thread; if the client disconnects meanwhile, cancel it."""
    task = asyncio.ensure_future(run_in_threadpool(work))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=POLL_SECONDS)
            if not task.done() and await request.is_disconnected():
                cancel.set()
        return task.result()
    finally:
        cancel.set()  # also when this handler itself is cancelled (shutdown)


def _counted(
    batches: Iterable[ExportBatch], request: Request, collection_id: str
) -> Iterator[ExportBatch]:
    """The audit record counts the features written so far (so also a cut-off download)."""
    total = 0
    for batch in batches:
        total += len(batch)
        note(request, collection_id, "download", total)
        yield batch


def _held(
    batches: Iterable[ExportBatch], store: Store, collection_id: str, version: int | None
) -> Iterator[ExportBatch]:
    """Renews the download's lease about once a minute while batches flow (a long download
    outlives the first lease; one that stops lets it lapse a few minutes later)."""
    last = time.monotonic()
    for batch in batches:
        if version is not None and time.monotonic() - last >= REFRESH_S:
            last = time.monotonic()
            with contextlib.suppress(VersionGone, VersionNotFound):  # pruned or deleted: read on
                retention.hold(store, collection_id, version, DOWNLOAD_LEASE_S)
        yield batch


def _cancellable(batches: Iterable[ExportBatch], cancel: threading.Event) -> Iterator[ExportBatch]:
    for batch in batches:
        if cancel.is_set():
            raise Cancelled
        yield batch


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


async def _pump(chunks: Iterator[bytes], release: Callable[[], None]) -> AsyncIterator[bytes]:
    """Chunks made in worker threads, one at a time; the generator and whatever it reads
    are closed in a worker thread too, after the last chunk or when the client goes away."""
    lock = threading.Lock()

    def step() -> bytes | None:
        with lock:
            return next(chunks, None)

    def close() -> None:
        with lock:  # waits for a step still running in another thread
            try:
                getattr(chunks, "close", lambda: None)()
            finally:
                release()

    try:
        while (chunk := await run_in_threadpool(step)) is not None:
            if chunk:
                yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(close)
