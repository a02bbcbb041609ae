"""Mapbox Vector Tile 2.1 layers written with numpy: whole arrays of commands at once.

mapbox-vector-tile builds a protobuf object per feature and walks every coordinate in
Python (~80 µs for a 33-vertex polygon, ~10 µs for a point with five properties); here the
geometries of a layer become one array of command integers (`shapely.to_ragged_array`),
the features one array of varints, and Python only deduplicates property values. The
output is what mapbox-vector-tile writes for the same input: repeated points dropped,
rings without their closing point, parts with fewer than two distinct points left out (a
polygon with its exterior), only str / bool / int / float values, ids only when >= 0.
Geometries come in tile units, snapped to integers and wound already (`encode.shape`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

_MOVE_TO, _LINE_TO, _CLOSE = 1, 2, 7
_POINTS, _LINES, _POLYGONS = 1, 2, 3
#: MVT geometry type by Shapely type id (0 point ... 6 multipolygon; 0 here: none).
_FAMILY = np.array([_POINTS, _LINES, _LINES, _POLYGONS, _POINTS, _LINES, _POLYGONS, 0, 0])


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Protobuf varints of non-negative integers, concatenated, and each one's length."""
    v = values.astype(np.uint64)
    sizes = _vsize(v)
    out = np.empty(int(sizes.sum()), np.uint8)
    starts = np.cumsum(sizes) - sizes
    for k in range(int(sizes.max(initial=1))):
        live = sizes > k
        byte = (v[live] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[live] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[live] + k] = (byte | more).astype(np.uint8)
    return out.tobytes(), sizes


def _zigzag(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def _parts(geometries: np.ndarray, family: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Coordinates, the coordinate offsets of each part, each part's feature, and for
    polygons whether each ring is an exterior (its interiors go when it goes)."""
    _kind, coords, offsets = shapely.to_ragged_array(geometries, include_z=False)
    n = len(geometries)
    if family == _POINTS:
        if len(offsets) == 0:  # all single points: one part each
            return coords, np.arange(n + 1), np.arange(n), None
        return coords, offsets[0], np.arange(n), None
    part_offsets = offsets[0]
    owner = np.arange(len(part_offsets) - 1)
    for level in offsets[1:]:  # rings -> polygons -> multipolygons
        owner = np.repeat(np.arange(len(level) - 1), np.diff(level))[owner]
    exterior = None
    if family == _POLYGONS:
        exterior = np.zeros(len(part_offsets) - 1, bool)
        exterior[offsets[1][:-1][np.diff(offsets[1]) > 0]] = True
    return coords, part_offsets, owner, exterior


def _tokens(geometries: np.ndarray, family: int) -> tuple[np.ndarray, np.ndarray]:
    """The command integers of every feature, concatenated, and how many each has."""
    n = len(geometries)
    coords, offsets, owner, exterior = _parts(geometries, family)
    xy = np.rint(coords).astype(np.int64)
    part_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    keep = np.ones(len(xy), bool)
    if family == _POLYGONS:
        keep[offsets[1:] - 1] = False  # the closing point
    if family != _POINTS:  # a point equal to the one before it in its part
        same = np.all(xy[1:] == xy[:-1], axis=1) & (part_of[1:] == part_of[:-1])
        keep[1:] &= ~same
    counts = np.bincount(part_of[keep], minlength=len(offsets) - 1)
    good = counts >= (1 if family == _POINTS else 2)
    if exterior is not None:
        polygon = np.cumsum(exterior) - 1
        good &= good[np.flatnonzero(exterior)][polygon]
    keep &= good[part_of]
    xy, part_of = xy[keep], part_of[keep]
    counts, owner = counts[good], owner[good]
    feature_of = owner[np.searchsorted(np.flatnonzero(good), part_of)]
    first_of_feature = np.ones(len(xy), bool)
    first_of_feature[1:] = feature_of[1:] != feature_of[:-1]
    delta = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64))
    delta[first_of_feature] = xy[first_of_feature]  # each feature's cursor starts at 0, 0
    zz = _zigzag(delta)
    if family == _POINTS:  # one MoveTo per feature with all its points
        per_feature = np.bincount(feature_of, minlength=n)
        heads = (_MOVE_TO | (per_feature << 3)).astype(np.uint64)
        sizes = np.where(per_feature > 0, 1 + 2 * per_feature, 0)
        out = np.empty(int(sizes.sum()), np.uint64)
        start = np.cumsum(sizes) - sizes
        out[start[per_feature > 0]] = heads[per_feature > 0]
        rank = np.arange(len(xy)) - (np.cumsum(per_feature) - per_feature)[feature_of]
        at = start[feature_of] + 1 + 2 * rank
        out[at], out[at + 1] = zz[:, 0], zz[:, 1]
        return out, sizes
    closing = 1 if family == _POLYGONS else 0
    part_sizes = 2 + 2 * counts + closing  # MoveTo x y LineTo (x y)* [ClosePath]
    start = np.cumsum(part_sizes) - part_sizes
    out = np.empty(int(part_sizes.sum()), np.uint64)
    out[start] = _MOVE_TO | (1 << 3)
    out[start + 3] = (_LINE_TO | ((counts - 1) << 3)).astype(np.uint64)
    if closing:
        out[start + part_sizes - 1] = _CLOSE | (1 << 3)
    new_part = np.flatnonzero(np.r_[True, part_of[1:] != part_of[:-1]])
    rank = np.arange(len(xy)) - np.repeat(new_part, counts)
    at = np.repeat(start, counts) + 1 + 2 * rank + (rank > 0)
    out[at], out[at + 1] = zz[:, 0], zz[:, 1]
    return out, np.bincount(owner, weights=part_sizes, minlength=n).astype(np.int64)


def _geometry(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every feature's command integers (concatenated), their counts, and MVT types."""
    n = len(geometries)
    families = _FAMILY[shapely.get_type_id(geometries)]
    if np.any(families == 0):
        raise ValueError("MVT has no geometry collections (encode.shape splits them)")
    sizes = np.zeros(n, np.int64)
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for family in np.unique(families):
        chosen = np.flatnonzero(families == family)
        tokens, counts = _tokens(geometries[chosen], int(family))
        sizes[chosen] = counts
        pieces.append((chosen, tokens, counts))
    if len(pieces) == 1:
        return pieces[0][1], sizes, families
    start = np.cumsum(sizes) - sizes  # features in their own order, whatever the family
    out = np.empty(int(sizes.sum()), np.uint64)
    for chosen, tokens, counts in pieces:
        at = np.repeat(start[chosen] - (np.cumsum(counts) - counts), counts)
        out[at + np.arange(len(tokens))] = tokens
    return out, sizes, families


def _value(v: Any) -> bytes | None:
    """A Value message: string 1, double 3, int 4, bool 7 (mapbox-vector-tile's choice)."""
    if isinstance(v, bool):
        return b"\x38" + (b"\x01" if v else b"\x00")
    if isinstance(v, str):
        raw = v.encode()
        return b"\x0a" + _uvarint(len(raw)) + raw
    if isinstance(v, int):
        return b"\x20" + _uvarint(v & 0xFFFFFFFFFFFFFFFF)
    if isinstance(v, float):
        return b"\x19" + struct.pack("<d", v)
    return None


#: One-byte varints, looked up: most lengths and indexes (a third of a point tile's time
#: went to building them bit by bit, py-spy on W6 facilities z14).
_SMALL = [bytes([i]) for i in range(128)]


def _uvarint(v: int) -> bytes:
    if v < 128:
        return _SMALL[v]
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return _uvarint(tag) + _uvarint(len(payload)) + payload


def _tags(columns: dict[str, Sequence[Any]], n: int) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Per feature (key, value) index pairs, concatenated, their counts, keys and values
    (each a whole Layer.values field, deduplicated across the layer's properties)."""
    keys: list[str] = []
    values: list[bytes] = []
    seen: dict[type, dict[Any, int]] = {}  # by type: 1, 1.0 and True are one dict key
    table = np.full((n, 2 * max(len(columns), 1)), -1, np.int64)
    for k, (name, column) in enumerate(columns.items()):
        keys.append(name)
        codes, uniques = _distinct(column)
        index = np.full(len(uniques) + 1, -1, np.int64)  # by code + 1 (code -1: none)
        index[1:] = _indexes(uniques, seen, values)
        indexes = index[codes + 1]
        table[:, 2 * k + 1] = indexes
        table[:, 2 * k] = np.where(indexes >= 0, k, -1)
    present = table >= 0
    return table[present].astype(np.uint64), present.sum(axis=1), keys, values


def _indexes(uniques: list[Any], seen: dict[type, dict[Any, int]], values: list[bytes]) -> list:
    """Each distinct value's index in the layer's values (-1: not encodable), adding the
    new ones. A column of strings is looked up and encoded in bulk (names are mostly
    distinct: value by value, they were a quarter of a point tile, py-spy W6 z14)."""
    kinds = set(map(type, uniques))
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind not in (str, int, float) or (kind is float and _has_nan(uniques)):
        return [_index_of(v, seen, values) for v in uniques]  # NaN is no dictionary key
    known = seen.setdefault(kind, {})
    found = list(map(known.get, uniques))
    new = [v for v, f in zip(uniques, found, strict=True) if f is None]
    if new:
        first = len(values)
        if kind is str:
            values += [_string_field(raw) for raw in map(str.encode, new)]
        elif kind is float:
            values += [b"\x22\x09\x19" + _DOUBLE.pack(v) for v in new]
        else:
            values += [b"\x22" + _int_field(v) for v in new]
        known.update(zip(new, range(first, first + len(new)), strict=True))
        found = list(map(known.get, uniques))
    return found


def _index_of(v: Any, seen: dict[type, dict[Any, int]], values: list[bytes]) -> int:
    known = seen.setdefault(type(v), {})
    found = known.get(v)
    if found is None:
        encoded = _value(v)
        if encoded is None:
            return -1
        found = known[v] = len(values)
        values.append(_field(0x22, encoded))
    return found


def _has_nan(values: Sequence[Any]) -> bool:
    return any(v != v for v in values)  # None != None is False


_DOUBLE = struct.Struct("<d")


def _int_field(v: int) -> bytes:
    """The length and body of a Layer.values field holding an int Value (`_value`)."""
    body = _uvarint(v & 0xFFFFFFFFFFFFFFFF)
    return _SMALL[len(body) + 1] + b"\x20" + body


def _string_field(raw: bytes) -> bytes:
    """A Layer.values field holding a string Value (`_value`, `_field`, unrolled)."""
    n = len(raw)
    if n < 126:
        return b"\x22" + _SMALL[n + 2] + b"\x0a" + _SMALL[n] + raw
    return _field(0x22, b"\x0a" + _uvarint(n) + raw)


def _distinct(column: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each row's code among the column's distinct values in order of first appearance
    (-1: None), and those values. A column of one type is hashed by the interpreter's own
    loops (`dict.fromkeys`, `map`: a point tile's property loop was a quarter of its time,
    py-spy on W6 facilities z14; pandas would do it too, but serving never imports pandas);
    a column of mixed types goes value by value, since 1, 1.0 and True are one dict key."""
    kinds = set(map(type, column))
    kinds.discard(type(None))
    if len(kinds) <= 1 and not (kinds == {float} and _has_nan(column)):
        index = {v: i for i, v in enumerate(dict.fromkeys(column))}
        none = index.pop(None, None)
        if none is not None:  # None has no code; the values after it move up one
            index = {v: i - (i > none) for v, i in index.items()}
            index[None] = -1
        codes = np.fromiter(map(index.__getitem__, column), np.int64, len(column))
        return codes, [v for v in index if v is not None]
    seen: dict[tuple[type, Any], int] = {}
    uniques: list[Any] = []
    codes = np.full(len(column), -1, np.int64)
    for row, v in enumerate(column):
        if v is None:
            continue
        code = seen.get((type(v), v))
        if code is None:
            code = seen[(type(v), v)] = len(uniques)
            uniques.append(v)
        codes[row] = code
    return codes, uniques


def _vsize(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64)
    sizes = np.ones(len(v), np.int64)
    for k in range(1, 10):
        sizes += v >= np.uint64(1 << (7 * k))
    return sizes


def _sum_by(sizes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per feature, the bytes of its `counts` consecutive varints."""
    ends = np.cumsum(sizes)
    bounds = np.cumsum(counts)
    total = np.where(bounds > 0, ends[np.maximum(bounds - 1, 0)] if len(ends) else 0, 0)
    return np.diff(np.r_[0, total])


class _Writer:
    """Tokens (varint values) laid out feature by feature: fixed fields and runs."""

    def __init__(self, sizes: np.ndarray) -> None:
        self.out = np.empty(int(sizes.sum()), np.uint64)
        self.pos = np.cumsum(sizes) - sizes

    def put(self, mask: np.ndarray | None, *values: np.ndarray | int) -> None:
        chosen = slice(None) if mask is None else mask
        for value in values:
            self.out[self.pos[chosen]] = value if np.isscalar(value) else value[chosen]
            self.pos[chosen] += 1

    def run(self, tokens: np.ndarray, counts: np.ndarray) -> None:
        first = np.cumsum(counts) - counts
        at = np.repeat(self.pos - first, counts) + np.arange(len(tokens))
        self.out[at] = tokens
        self.pos += counts


def layer(
    name: str,
    fids: Sequence[int],
    geometries: np.ndarray,
    columns: dict[str, Sequence[Any]],
    extent: int,
) -> bytes:
    """One Tile.layers entry (field 3) with its features; b"" when none has a geometry."""
    if len(fids) == 0:
        return b""
    geometry, g_counts, types = _geometry(geometries)
    drawn = g_counts > 0
    if not drawn.any():
        return b""
    tags, t_counts, keys, values = _tags(columns, len(fids))
    tags = tags[np.repeat(drawn, t_counts)]
    ids = np.asarray(fids, np.int64)[drawn]
    g_counts, t_counts, types = g_counts[drawn], t_counts[drawn], types[drawn]
    g_len = _sum_by(_vsize(geometry), g_counts)
    t_len = _sum_by(_vsize(tags), t_counts)
    has_id, has_tags = ids >= 0, t_counts > 0
    ids = np.maximum(ids, 0).astype(np.uint64)
    body = (
        np.where(has_id, 1 + _vsize(ids), 0)
        + np.where(has_tags, 1 + _vsize(t_len) + t_len, 0)
        + 2
        + 1
        + _vsize(g_len)
        + g_len
    )
    sizes = 2 + 2 * has_id + np.where(has_tags, 2 + t_counts, 0) + 4 + g_counts
    w = _Writer(sizes)
    w.put(None, 0x12, body)  # Layer.features
    w.put(has_id, 0x08, ids)
    w.put(has_tags, 0x12, t_len)
    w.run(tags, t_counts)
    w.put(None, 0x18, types, 0x22, g_len)
    w.run(geometry, g_counts)
    features, _ = varints(w.out)
    parts = [b"\x78\x02", _field(0x0A, name.encode()), features]
    parts += [_field(0x1A, k.encode()) for k in keys]
    parts += values
    parts.append(b"\x28" + _uvarint(extent))
    return _field(0x1A, b"".join(parts))
