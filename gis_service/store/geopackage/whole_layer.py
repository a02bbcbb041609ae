"""Whole-layer downloads from a GeoPackage file, read as columns by GDAL's Arrow reader.

Python's `sqlite3` makes an object per value: ~3 s of CPU for a million rows before
anything is written. GDAL reads the same file into Arrow arrays in C (~0.7 s). Only for
selections `columnar.columnar` accepts (whole layer, id order: what GDAL's sequential read
gives, checked batch by batch).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from ...domain.collection import CollectionInfo
from ...domain.query import FeatureQuery
from ..columnar import BATCH_ROWS, ColumnarBatch, as_batch_column, columnar
from ..streaming import FeatureStream
from .query import Opened


def file_id(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode): a replace renames a new file over the path."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def open_stream(
    path: Path,
    before: tuple[int, int] | None,
    opened: Opened,
    query: FeatureQuery,
    limit: int | None,
) -> FeatureStream | None:
    """The layer read by GDAL; None when the selection is not columnar, or when the file was
    replaced since `before` was taken (GDAL opens by name: it could be reading another
    generation than the caller's, who then reads its own rows)."""
    info, layout = opened.info, opened.layout
    if not columnar(info, query):
        return None
    from pyogrio.raw import open_arrow  # GDAL only in workers that serve such downloads

    stack = ExitStack()
    try:
        meta, reader = stack.enter_context(
            open_arrow(
                path,
                layer=layout.table,
                columns=[p.name for p in info.properties],
                return_fids=True,
                batch_size=BATCH_ROWS if limit is None else max(1, min(BATCH_ROWS, limit)),
                use_pyarrow=True,
            )
        )
        if before is None or file_id(path) != before:
            stack.close()
            return None
    except Exception:  # GDAL could not read it as a layer: the rows can still be read
        stack.close()
        return None
    except BaseException:
        stack.close()
        raise
    return FeatureStream(info, _batches(meta, reader, info, limit), stack.close)


def _batches(
    meta: dict[str, Any], reader: Any, info: CollectionInfo, limit: int | None
) -> Iterator[ColumnarBatch]:
    """GDAL's record batches as the stream's, checked to come in id order, up to `limit`
    features (GDAL's Arrow reader takes no limit)."""
    kinds = {p.name: p.type for p in info.properties}
    fid_name = meta["fid_column"] or "OGC_FID"
    geom_name = meta["geometry_name"] or "wkb_geometry"
    last: int | None = None
    left = limit
    for record in reader:
        if left is not None:
            if left <= 0:
                return
            record = record.slice(0, left)
            left -= record.num_rows
        fids = record.column(fid_name)
        ids = fids.to_numpy()
        if len(ids) and ((last is not None and ids[0] <= last) or (np.diff(ids) <= 0).any()):
            raise RuntimeError("GDAL read the layer out of id order")  # a rowid table: never
        last = int(ids[-1]) if len(ids) else last
        arrays = {name: as_batch_column(record.column(name), kind) for name, kind in kinds.items()}
        yield ColumnarBatch(fids, record.column(geom_name), arrays)
