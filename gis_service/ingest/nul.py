"""Property names and text values holding U+0000 (NUL) stop an import, on both stores.

PostgreSQL text cannot hold a NUL at all, and SQLite cuts a column name at one; GDAL, for
its part, ends every string at one, so `"a\\u0000b"` in GeoJSON would silently arrive as
`a`. So the file is refused, naming the property and the row, before anything is written:
text files are scanned for NULs and GeoJSON for `\\u0000` escapes (a `find` over the mapped
file: no cost when there are none), and Arrow checks whole text columns (GeoParquet).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..domain.values import refuse_nul
from ..errors import IngestError
from .options import IngestOptions

NUL = "\x00"
TEXT_SUFFIXES = (".geojson", ".json", ".csv", ".tsv", ".kml")
JSON_SUFFIXES = (".geojson", ".json")
#: A GeoJSON file holding an escaped NUL is read whole to say where, up to this size.
LOCATE_MAX_BYTES = 128 * 1024**2


def _name_error(name: str) -> IngestError:
    shown = name.replace(NUL, "\\0")
    return IngestError(f"property {shown!r}: its name contains U+0000 (NUL), which no name holds")


def _value_error(row: int, name: str) -> IngestError:
    return IngestError(
        f"row {row}: property {name!r} holds U+0000 (NUL), which text cannot hold;"
        " nothing was stored"
    )


_TEXT_OPTIONS = ("title", "title_ar", "description", "license", "attribution", "layer")


def check_options(options: IngestOptions) -> None:
    """What the import is told (upload form fields, command options): a 400 naming it."""
    for field in _TEXT_OPTIONS:
        value = getattr(options, field)
        if isinstance(value, str):
            refuse_nul(field, value)
    for keyword in options.keywords or ():
        refuse_nul("keywords", keyword)
    for name in options.temporal or ():
        if name:
            refuse_nul("temporal", name)


def check_names(names: Iterable[str]) -> None:
    for name in names:
        if NUL in name:
            raise _name_error(name)


def check_values(batch: pa.RecordBatch, names: Iterable[str], first_row: int) -> None:
    """The text columns `names` of a source batch; `first_row` is its first row's number."""
    for name in names:
        column = batch.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue  # other types become text without NULs (JSON escapes them, bytes hex)
        found = pc.match_substring(column, NUL)
        if pc.any(found).as_py():
            raise _value_error(first_row + pc.index(found, True).as_py(), name)


def check_file(path: Path) -> None:
    """NULs in a text file, before GDAL reads (and truncates) its strings."""
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES or not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        raw = data.find(b"\x00")
        if raw >= 0:
            raise IngestError(f"file: byte {raw} is U+0000 (NUL): not a text file")
        if suffix in JSON_SUFFIXES and _json_nul(data) >= 0:
            _locate(path)


def _json_nul(data: mmap.mmap) -> int:
    """Offset of the first `\\u0000` escape (an odd run of backslashes before `u0000`)."""
    start = 0
    while (at := data.find(b"\\u0000", start)) >= 0:
        run = 1
        while at - run >= 0 and data[at - run] == 0x5C:
            run += 1
        if run % 2 == 1:
            return at
        start = at + 1
    return -1


def _locate(path: Path) -> None:
    """Raise the error naming the property and the feature (its row) holding the NUL."""
    if path.stat().st_size <= LOCATE_MAX_BYTES:
        try:
            features = orjson.loads(path.read_bytes()).get("features")
        except (orjson.JSONDecodeError, AttributeError):
            features = None
        for row, feature in enumerate(features if isinstance(features, list) else [], 1):
            props = feature.get("properties") if isinstance(feature, dict) else None
            for name, value in (props or {}).items() if isinstance(props, dict) else ():
                if NUL in name:
                    raise _name_error(name)
                if _holds_nul(value):
                    raise _value_error(row, name)
    raise IngestError("file: the GeoJSON holds U+0000 (NUL, \\u0000), which text cannot hold")


def _holds_nul(value: Any) -> bool:
    """A walk with a stack of its own: JSON nests deeper than Python's recursion limit."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
