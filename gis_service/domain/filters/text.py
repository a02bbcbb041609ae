"""CASEI and ACCENTI as one definition both stores share.

SQLite calls these Python functions; PostGIS gets SQL functions built from the same mark
ranges and fold table (see `store/filter_sql.py`), so both answer identically. Accents are
removed by decomposing (NFD) and dropping every combining mark (Unicode category M: Latin
accents and Arabic harakat/tashkeel alike); letters whose accent is a stroke have no
decomposition and are folded by a small table (ø -> o, as CQL2's own tests expect).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

STROKE_FROM = "ØøĐđŁłĦħŦŧƗɨƵƶ"
STROKE_TO = "OoDdLlHhTtIiZz"
_STROKES = str.maketrans(STROKE_FROM, STROKE_TO)


@cache
def mark_ranges() -> tuple[tuple[int, int], ...]:
    """Code point ranges of combining marks (computed once, from Python's Unicode data)."""
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(sys.maxunicode + 1):
        is_mark = unicodedata.category(chr(cp))[0] == "M"
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return tuple(ranges)


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


@cache
def mark_class() -> str:
    """A regular-expression class of the marks, in syntax Python and PostgreSQL both read."""
    parts = [_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in mark_ranges()]
    return "[" + "".join(parts) + "]"


@cache
def _marks() -> re.Pattern[str]:
    return re.compile(mark_class())


def casei(text: str | None) -> str | None:
    return None if text is None else text.lower()


def accenti(text: str | None) -> str | None:
    if text is None:
        return None
    return _marks().sub("", unicodedata.normalize("NFD", text)).translate(_STROKES)
