"""Typed feature queries, parsed from request strings with precise errors."""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from ..errors import InvalidParameter
from .collection import CollectionInfo
from .values import as_utc, parse_typed, refuse_nul


@dataclass(frozen=True)
class BBox:
    """A CRS84 box; minx > maxx means it crosses the antimeridian."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def parts(self) -> list[tuple[float, float, float, float]]:
        """Boxes that never cross the antimeridian, for index lookups."""
        if self.minx <= self.maxx:
            return [(self.minx, self.miny, self.maxx, self.maxy)]
        return [(self.minx, self.miny, 180.0, self.maxy), (-180.0, self.miny, self.maxx, self.maxy)]


@dataclass(frozen=True)
class TimeInterval:
    """Closed interval in UTC; None is an open end."""

    start: datetime | None
    end: datetime | None


CursorValue = str | int | float | bool | None
#: The largest version number: the catalog's column is a PostgreSQL `integer`.
MAX_VERSION = 2**31 - 1


@dataclass(frozen=True)
class Cursor:
    """Keyset position: continue after (or before) this feature in the page order.

    For a sorted query `keys` holds the feature's sort values, so a page is found by an
    index seek however deep it is, and ties on the sort keys are broken by the id.
    `version` pins the generation the first page read: every write publishes a new one,
    and a client following links must not get pages of several.
    """

    after: bool
    fid: int
    keys: tuple[CursorValue, ...] = ()
    version: int | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"d": "a" if self.after else "b", "id": self.fid}
        if self.keys:
            data["k"] = list(self.keys)
        if self.version is not None:
            data["v"] = self.version
        raw = orjson.dumps(data)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = orjson.loads(raw)
            direction, fid, keys = data["d"], data["id"], data.get("k", [])
            version = data.get("v")
            if direction not in ("a", "b") or not isinstance(fid, int):
                raise ValueError(token)
            if version is not None and not (type(version) is int and 1 <= version <= MAX_VERSION):
                raise ValueError(token)
            if not isinstance(keys, list):
                raise ValueError(token)
            if not all(k is None or isinstance(k, str | int | float | bool) for k in keys):
                raise ValueError(token)
            if any(isinstance(v, int) and not -(2**63) < v < 2**63 for v in (fid, *keys)):
                raise ValueError(token)  # SQL engines hold 64-bit integers only
            if any(isinstance(k, str) and "\x00" in k for k in keys):
                raise ValueError(token)  # no stored text holds NUL; PostgreSQL binds none
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidParameter("cursor", "not a cursor issued by this service") from exc
        return cls(after=direction == "a", fid=fid, keys=tuple(keys), version=version)


@dataclass(frozen=True)
class SortKey:
    """One `sortby` term: a property name and its direction."""

    name: str
    descending: bool = False


@dataclass
class FeatureQuery:
    """One page of a collection's features; what every store must answer identically."""

    limit: int = 10
    bbox: BBox | None = None
    interval: TimeInterval | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    cursor: Cursor | None = None
    offset: int = 0
    version: int | None = None  # None: the current version
    #: A checked CQL2 expression (`domain.filters`), already in CRS84; None: no filter.
    filter: Any = None
    #: Sort keys in order; the feature id always breaks ties last.
    sortby: list[SortKey] = field(default_factory=list)
    #: Only these feature ids (a generalised tile's chosen features); None: any id.
    fids: tuple[int, ...] | None = None
    #: False: a feature whose bounds meet `bbox` may come though its shape misses the box
    #: (a tile clips every feature to the box itself, so the store spares the exact test).
    bbox_exact: bool = True

    @property
    def filtered(self) -> bool:
        return (
            self.bbox is not None
            or self.interval is not None
            or bool(self.equals)
            or self.filter is not None
            or self.fids is not None
        )


_ASCII_DIGITS = re.compile(r"[0-9]{1,40}")
_ASCII_INTEGER = re.compile(r"-?[0-9]{1,40}")  # a sign, so that -1 hears "at least 1"


def parse_limit(text: str | None, default: int, maximum: int) -> int:
    """Values above the maximum are clamped, as Part 1 (1.0.1) says; below 1 is an error."""
    if text is None:
        return default
    if not _ASCII_INTEGER.fullmatch(text):  # int() also takes ' 1', '1_0' and '١'
        raise InvalidParameter("limit", f"{text[:40]!r} is not an integer (ASCII digits)")
    value = int(text)
    if value < 1:
        raise InvalidParameter("limit", f"must be at least 1, got {value}")
    return min(value, maximum)


MAX_OFFSET = 2**62  # room for offset + limit in a 64-bit SQL integer


def parse_offset(text: str | None) -> int:
    if text is None:
        return 0
    if not _ASCII_INTEGER.fullmatch(text):
        raise InvalidParameter("offset", f"{text[:40]!r} is not an integer (ASCII digits)")
    value = int(text)
    if value < 0:
        raise InvalidParameter("offset", "must not be negative")
    if value > MAX_OFFSET:  # SQL engines take 64-bit integers, not OverflowErrors
        raise InvalidParameter("offset", f"must be at most {MAX_OFFSET}")
    return value


def bbox_corners(text: str) -> tuple[float, float, float, float]:
    """minx, miny, maxx, maxy of a 4- or 6-number `bbox`, in whatever CRS it is given
    (heights are checked, then dropped: the data is 2D)."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox", f"expected 4 or 6 comma-separated numbers, got {len(parts)}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidParameter("bbox", f"{text!r} contains a value that is not a number") from exc
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter("bbox", "values must be finite numbers")
    if len(numbers) == 6:
        minx, miny, minz, maxx, maxy, maxz = numbers
        if minz > maxz:
            raise InvalidParameter("bbox", "minimum height is above the maximum height")
        return minx, miny, maxx, maxy
    minx, miny, maxx, maxy = numbers
    return minx, miny, maxx, maxy


def parse_bbox(text: str | None) -> BBox | None:
    """Four or six CRS84 numbers; a six-number box's heights are ignored (2D data)."""
    if text is None:
        return None
    minx, miny, maxx, maxy = bbox_corners(text)
    for lon in (minx, maxx):
        if not -180 <= lon <= 180:
            raise InvalidParameter("bbox", f"longitude {lon} is outside -180..180")
    for lat in (miny, maxy):
        if not -90 <= lat <= 90:
            raise InvalidParameter("bbox", f"latitude {lat} is outside -90..90")
    if miny > maxy:
        raise InvalidParameter("bbox", "the lower latitude is above the upper latitude")
    return BBox(minx, miny, maxx, maxy)


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_instant(text: str, *, end: bool) -> datetime:
    """RFC 3339 date-time; a bare date stands for its whole day (start or end of it)."""
    if _DATE_ONLY.match(text):
        day = date.fromisoformat(text)
        moment = datetime.combine(day, time.min, tzinfo=UTC)
        return moment + timedelta(days=1, microseconds=-1) if end else moment
    if "T" not in text.upper():
        raise ValueError(text)
    return as_utc(datetime.fromisoformat(text.replace("z", "Z").replace("t", "T")))


def parse_datetime(text: str | None) -> TimeInterval | None:
    """An instant or an interval, `..` or empty for open ends (/req/core/fc-time-definition)."""
    if text is None:
        return None
    pieces = text.split("/")
    if len(pieces) > 2:
        raise InvalidParameter("datetime", f"{text!r} has more than one '/'")
    try:
        if len(pieces) == 1:
            if pieces[0] in ("", ".."):
                raise ValueError(text)
            return TimeInterval(
                _parse_instant(pieces[0], end=False), _parse_instant(pieces[0], end=True)
            )
        start_text, end_text = (p.strip() for p in pieces)
        start = None if start_text in ("", "..") else _parse_instant(start_text, end=False)
        end = None if end_text in ("", "..") else _parse_instant(end_text, end=True)
    except ValueError as exc:
        raise InvalidParameter(
            "datetime", f"{text!r} is not an RFC 3339 date-time or interval"
        ) from exc
    if start is None and end is None:
        raise InvalidParameter("datetime", "an interval needs at least one closed end")
    if start is not None and end is not None and start > end:
        raise InvalidParameter("datetime", "the interval's start is after its end")
    return TimeInterval(start, end)


def parse_equals(collection: CollectionInfo, params: dict[str, str]) -> dict[str, Any]:
    """`?name=value` filters, each value checked against the property's type (numbers in
    ASCII digits; an integer beyond 64 bits is kept: it simply matches nothing)."""
    equals: dict[str, Any] = {}
    for name, text in params.items():
        prop = collection.prop(name)
        if prop is None:
            raise InvalidParameter(name, "not a property of this collection")
        refuse_nul(name, text)
        try:
            equals[name] = parse_typed(text, prop.type)
        except ValueError as exc:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise InvalidParameter(name, f"{shown!r} is not a valid {prop.type.value}") from exc
    return equals


MAX_SORT_KEYS = 5


def parse_sortby(collection: CollectionInfo, text: str | None) -> list[SortKey]:
    """`name,-other,+third` (OGC API Features Part 8 / Records `sortby`); ids break ties."""
    if text is None:
        return []
    keys: list[SortKey] = []
    for raw in text.split(","):
        term = raw.strip()
        descending = term.startswith("-")
        name = term[1:] if term[:1] in "+-" and term else term
        if not name:
            raise InvalidParameter("sortby", f"empty sort key in {text!r}")
        if collection.prop(name) is None:
            raise InvalidParameter("sortby", f"{name!r} is not a property of this collection")
        if any(k.name == name for k in keys):
            raise InvalidParameter("sortby", f"{name!r} is given twice")
        keys.append(SortKey(name, descending))
    if len(keys) > MAX_SORT_KEYS:
        raise InvalidParameter("sortby", f"at most {MAX_SORT_KEYS} sort keys, got {len(keys)}")
    return keys


def version_number(text: str) -> int | None:
    """The version `text` names: ASCII digits only (`str.isdigit` takes '²' and '١') and
    within what both stores hold; None for anything else."""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_VERSION else None


def parse_version(text: str | None, parameter: str = "version") -> int | None:
    """A version parameter (`version`, `since`); absent is None, anything else a 400."""
    if text is None:
        return None
    value = version_number(text)
    if value is None:
        raise InvalidParameter(
            parameter, f"{text[:40]!r} is not a version number (1 to {MAX_VERSION})"
        )
    return value
