"""The service's documented sort order, computed independently of both stores."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any


def expected_order(
    rows: Mapping[int, Mapping[str, Any]], sortby: str, ids: Iterable[int] | None = None
) -> list[int]:
    """Ids ordered by `sortby`: NULLs first ascending and last descending, text by code
    point, the id breaking ties."""
    keys = [(term.strip().lstrip("+-"), term.strip().startswith("-")) for term in sortby.split(",")]

    def compare(a: int, b: int) -> int:
        for name, descending in keys:
            va, vb = rows[a].get(name), rows[b].get(name)
            if va == vb:
                continue
            if va is None or vb is None:  # NULLs first
                return (1 if va is None else -1) if descending else (-1 if va is None else 1)
            result = -1 if va < vb else 1
            return -result if descending else result
        return -1 if a < b else 1

    return sorted(rows if ids is None else ids, key=functools.cmp_to_key(compare))
