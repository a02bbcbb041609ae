"""Whole selections for downloads: batches of rows from one connection held for the stream.

A download may hold millions of features, so it never becomes a list: the store runs one
query on a connection of its own (never a request thread's) and hands out a few thousand
rows at a time, column by column, with values already in their GeoJSON form so that
both stores feed the format writers identical batches.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.collection import CollectionInfo

#: Rows per batch: large enough for vectorised work, small enough for flat memory.
BATCH_ROWS = 5000
#: The GC's young-generation threshold while downloads run: a few batches' containers.
YOUNG_OBJECTS = 25_000

Conversion = Callable[[Any], Any]


@dataclass
class ExportBatch:
    """Consecutive features of a selection: ids, WKB geometries (EPSG:4326), columns."""

    fids: list[int]
    wkbs: list[bytes | None]
    columns: dict[str, list[Any]]
    #: Whether the batch is a `columnar.ColumnarBatch` (asked without importing Arrow).
    columnar = False

    def __len__(self) -> int:
        return len(self.fids)


class FeatureStream:
    """An open selection: iterate for batches; `close` releases the connection, always.

    `info` describes the generation actually read (a `version` may differ from the
    current one). Closing early (a client that went away) is normal.
    """

    def __init__(
        self, info: CollectionInfo, batches: Iterator[ExportBatch], release: Callable[[], None]
    ) -> None:
        self.info = info
        self._batches = batches
        _young_generation.enter()
        self._release: Callable[[], None] | None = both(release, _young_generation.leave)

    def __iter__(self) -> Iterator[ExportBatch]:
        return self._batches

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            close = getattr(self._batches, "close", None)
            if close is not None:
                close()
        finally:
            release()

    def __enter__(self) -> FeatureStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _YoungGeneration:
    """A larger young generation for the cyclic GC while any download is open.

    A batch makes tens of thousands of short-lived containers that live until the batch is
    written; with CPython's default threshold (700) they survive several young collections,
    get promoted and set off full collections over the whole heap (a fifth of a download's
    time). Collection still runs (all threads' cycles are found, a few batches later), so
    it is safe for concurrent requests; the default comes back when the last stream closes.
    """

    def __init__(self, young: int) -> None:
        self.young = young
        self._lock = threading.Lock()
        self._open = 0
        self._saved: tuple[int, int, int] | None = None

    def enter(self) -> None:
        with self._lock:
            if self._open == 0:
                self._saved = first, *rest = gc.get_threshold()
                gc.set_threshold(max(first, self.young), *rest)
            self._open += 1

    def leave(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0 and self._saved is not None:
                gc.set_threshold(*self._saved)


_young_generation = _YoungGeneration(YOUNG_OBJECTS)


def both(first: Callable[[], object], then: Callable[[], object]) -> Callable[[], None]:
    """Run `first`, then `then` even when `first` fails (releasing two resources)."""

    def release() -> None:
        try:
            first()
        finally:
            then()

    return release


class Prefetch:
    """Batches read one ahead in a thread of its own, so that reading overlaps encoding.

    For readers that let go of the GIL while they wait (a database server's answer); the
    thread starts on the first `next`. `close` stops it and waits for it, and the batches'
    generator is closed in the thread that ran it, before the connection is released.
    """

    def __init__(self, batches: Iterator[ExportBatch]) -> None:
        self._batches = batches
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> ExportBatch:
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="download-reader", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if isinstance(item, ExportBatch):
            return item
        self._done = True
        if isinstance(item, BaseException):
            raise item
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._done = True

    def _read(self) -> None:
        end: object = None
        try:
            for batch in self._batches:
                if not self._put(batch):
                    break
        except BaseException as exc:  # handed to the reader of the stream
            end = exc
        finally:
            close = getattr(self._batches, "close", None)
            if close is not None:
                close()
        self._put(end)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


class Cursor(Protocol):
    def fetchmany(self, size: int = ...) -> list[tuple[Any, ...]]: ...


def batches(
    cursor: Cursor,
    names: list[str],
    wkbs: Callable[[Sequence[Any]], list[bytes | None]],
    conversions: dict[str, Conversion],
    size: int = BATCH_ROWS,
) -> Iterator[ExportBatch]:
    """Rows (fid, geometry, *properties) fetched `size` at a time, turned into columns;
    `wkbs` turns a batch's stored geometries into WKB."""
    while rows := cursor.fetchmany(size):
        columns = list(zip(*rows, strict=True))
        props: dict[str, list[Any]] = {}
        for name, values in zip(names, columns[2:], strict=True):
            convert = conversions.get(name)
            if convert is None:
                props[name] = list(values)
            else:
                props[name] = [None if v is None else convert(v) for v in values]
        yield ExportBatch(fids=list(columns[0]), wkbs=wkbs(columns[1]), columns=props)
