"""Canonical forms of attribute values, so both stores answer byte-identically.

Also what any value or identifier from a request must be before a store sees it: feature
ids in one spelling, numbers in ASCII digits, integers within 64 bits, text without NUL.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from ..errors import InvalidParameter
from .collection import PropertyType

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# re.ASCII: `int()` and `float()` also take Arabic-Indic digits, spaces and underscores
_FEATURE_ID = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def feature_id(text: str) -> int | None:
    """The id `text` names in its one spelling (ASCII digits, no sign, no leading zeros,
    within 64 bits); None for every other spelling, which then names no feature."""
    if not _FEATURE_ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def fits_int64(value: int) -> bool:
    """Whether an integer column (SQLite INTEGER, PostgreSQL bigint) can hold `value`."""
    return INT64_MIN <= value <= INT64_MAX


def refuse_nul(field: str, text: str) -> str:
    """Text from a request must not hold U+0000: PostgreSQL text cannot store it and SQLite
    cuts names at it, so both stores refuse it alike (a 400 naming the field)."""
    if "\x00" in text:
        raise InvalidParameter(field, "contains U+0000 (NUL), which text cannot hold")
    return text


def as_utc(value: datetime) -> datetime:
    """Naive date-times are taken as UTC: GeoJSON and most sources carry no zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant Python holds
        raise ValueError(f"{value.isoformat()} is outside years 1-9999 in UTC") from None


def storage_datetime(value: datetime) -> str:
    """Fixed-width UTC text (the GeoPackage form), so text order equals time order."""
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC, milliseconds only when there are some."""
    value = as_utc(value)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    millis = value.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def parse_datetime_text(text: str) -> datetime:
    """Parse stored or RFC 3339 text; raises ValueError when it is not a date-time."""
    return as_utc(datetime.fromisoformat(text.strip().replace("z", "Z")))


def output_value(value: Any, kind: PropertyType) -> Any:
    """A stored value as it appears in GeoJSON."""
    if value is None:
        return None
    if kind is PropertyType.DATETIME:
        if isinstance(value, str):
            value = parse_datetime_text(value)
        return format_datetime(value)
    if kind is PropertyType.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if kind is PropertyType.BOOLEAN:
        return bool(value)
    if kind is PropertyType.NUMBER:
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return value


def parse_typed(text: str, kind: PropertyType) -> Any:
    """A query-string value as the property's type; raises ValueError when it is not one.

    Integers may lie beyond 64 bits (no stored value then equals them)."""
    if kind is PropertyType.INTEGER:
        if not _INTEGER.fullmatch(text) or len(text) > 400:
            raise ValueError(text)
        return int(text)
    if kind is PropertyType.NUMBER:
        if not _NUMBER.fullmatch(text):
            raise ValueError(text)
        number = float(text)
        if math.isnan(number) or math.isinf(number):
            raise ValueError("not a finite number")
        return number
    if kind is PropertyType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError("expected true or false")
    if kind is PropertyType.DATE:
        return date.fromisoformat(text)
    if kind is PropertyType.DATETIME:
        return parse_datetime_text(text)
    return text


def display_datetime_text(text: str) -> str:
    """Stored canonical text as GeoJSON shows it, without parsing in the common case."""
    if len(text) == 24 and text[19] == "." and text[23] == "Z":
        return text[:19] + "Z" if text[20:23] == "000" else text
    return format_datetime(parse_datetime_text(text))
