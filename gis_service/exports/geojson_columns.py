"""GeoJSON features written from whole columns, byte for byte as the feature dicts would be.

Each column becomes an Arrow string array of its JSON text (numbers through orjson, so
they are formatted exactly as orjson formats a feature's values), and Arrow joins the
columns and the fixed parts of a feature row by row in C. No Python object is made per
feature. A batch this cannot write exactly (geometries other than plain 2D points, a
reprojection) is written by the caller's row-wise path instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..store.columnar import ColumnarBatch

_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
_COMMA = ord(",")


def features(batch: ColumnarBatch, names: Sequence[str], geometry: bool) -> bytes | None:
    """The batch's features joined by commas, or None when it needs the row-wise path."""
    pieces: list[pa.Array | str] = ['{"type":"Feature","id":', batch.fid_array.cast(pa.string())]
    if geometry:
        xy = _plain_points(batch.wkb_array)
        if xy is None:
            return None
        x, y = (_scalar_texts(orjson.dumps(c, option=orjson.OPT_SERIALIZE_NUMPY)) for c in xy)
        pieces += [',"geometry":{"type":"Point","coordinates":[', x, ",", y, "]}"]
    else:
        pieces.append(',"geometry":null')
    opening = ',"properties":{'
    for name in names:
        key = orjson.dumps(name).decode()
        array = batch.arrays[name]
        if pa.types.is_string(array.type) and not array.null_count and not _needs_escapes(array):
            pieces += [f'{opening}{key}:"', array, '"']  # the common case: no copy of its own
        else:
            pieces += [f"{opening}{key}:", _value_texts(array)]
        opening = ","
    pieces.append("}}," if names else ',"properties":{}},')
    if not len(batch):
        return b""
    joined = pc.binary_join_element_wise(*pieces, "")
    offsets = np.frombuffer(joined.buffers()[1], np.int32, len(joined) + 1, joined.offset * 4)
    data = joined.buffers()[2]
    return data[int(offsets[0]) : int(offsets[-1]) - 1].to_pybytes()  # no final comma


def _plain_points(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """x and y of each geometry when all are non-empty 2D little-endian points."""
    if wkb.null_count or not len(wkb):
        return None if wkb.null_count else (np.empty(0), np.empty(0))
    wkb = wkb.cast(pa.binary())
    offsets = np.frombuffer(wkb.buffers()[1], np.int32, len(wkb) + 1, wkb.offset * 4)
    if not (np.diff(offsets) == _POINT_WKB.itemsize).all():
        return None
    records = np.frombuffer(wkb.buffers()[2], _POINT_WKB, len(wkb), int(offsets[0]))
    if not ((records["order"] == 1).all() and (records["type"] == 1).all()):
        return None
    x, y = records["x"].copy(), records["y"].copy()
    if np.isnan(x).any() or np.isnan(y).any():  # empty points
        return None
    return x, y


def _value_texts(array: pa.Array) -> pa.Array:
    """Each value's JSON text (null for nulls)."""
    kind = array.type
    if pa.types.is_string(kind):
        texts = _string_texts(array)
    elif pa.types.is_boolean(kind):
        texts = pc.if_else(array, "true", "false")
    elif pa.types.is_integer(kind):
        texts = array.cast(pa.string())
    else:  # float64; orjson writes NaN and infinities as null, as the row path does
        values = array.fill_null(np.nan).to_numpy(zero_copy_only=False)
        texts = _scalar_texts(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY))
    return texts.fill_null("null") if array.null_count else texts


def _string_texts(array: pa.Array) -> pa.Array:
    """Quoted strings; the few that need escapes are written by orjson one by one."""
    quoted = pc.binary_join_element_wise('"', array, '"', "")
    offsets, data = _string_bytes(array)
    escaped = np.flatnonzero(_escaped(data))
    if not len(escaped):
        return quoted
    rows = np.unique(np.searchsorted(offsets - offsets[0], escaped, side="right") - 1)
    texts = [orjson.dumps(array[int(i)].as_py()).decode() for i in rows]
    mask = np.zeros(len(array), bool)
    mask[rows] = True
    return pc.replace_with_mask(quoted, pa.array(mask), pa.array(texts, pa.string()))


def _string_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's offsets and the bytes of its values."""
    offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
    data = np.frombuffer(array.buffers()[2] or b"", np.uint8)[offsets[0] : offsets[-1]]
    return offsets, data


def _escaped(data: np.ndarray) -> np.ndarray:
    """Bytes a JSON string must escape: orjson escapes exactly these (UTF-8 passes as is)."""
    return (data < 0x20) | (data == ord('"')) | (data == ord("\\"))


def _needs_escapes(array: pa.Array) -> bool:
    return bool(_escaped(_string_bytes(array)[1]).any())


def _scalar_texts(text: bytes) -> pa.Array:
    """The elements of a JSON array of numbers or literals (no commas inside any)."""
    body = np.frombuffer(text, np.uint8)[1:-1]
    if not len(body):
        return pa.array([], pa.string())
    commas = np.flatnonzero(body == _COMMA)
    keep = np.ones(len(body), bool)
    keep[commas] = False
    data = body[keep]
    offsets = np.empty(len(commas) + 2, np.int32)
    offsets[0] = 0
    offsets[1:-1] = commas - np.arange(len(commas))
    offsets[-1] = len(data)
    return pa.StringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())
    )
