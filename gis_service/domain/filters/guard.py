"""Cheap checks before any parser sees a filter.

cql2-rs recurses per nesting level and takes the whole process down (a segfault, not an
exception) at a few thousand nested parentheses, so depth is counted here first, outside
string literals, along with the size.
"""

from __future__ import annotations

from .literals import bad

MAX_BYTES = 64 * 1024
MAX_DEPTH = 50
MAX_JSON_DEPTH = 100  # JSON nests twice per operation ({"op": .., "args": [..]})


def _depth(source: str, opening: str, closing: str, quotes: str, escape: str | None) -> int:
    """Deepest bracket nesting outside quoted strings."""
    depth = deepest = 0
    quote: str | None = None
    escaped = False
    for char in source:
        if quote is not None:
            if escaped:
                escaped = False
            elif escape is not None and char == escape:
                escaped = True
            elif char == quote:
                quote = None  # in cql2-text a doubled quote simply reopens at once
        elif char in quotes:
            quote = char
        elif char in opening:
            depth += 1
            deepest = max(deepest, depth)
        elif char in closing:
            depth -= 1
    return deepest


def check_size_and_depth(source: str, lang: str) -> None:
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise bad(f"is {size} bytes long; at most {MAX_BYTES} are accepted")
    if lang == "cql2-json":
        depth, limit = _depth(source, "[{", "]}", '"', "\\"), MAX_JSON_DEPTH
    else:
        depth, limit = _depth(source, "(", ")", "'\"", None), MAX_DEPTH
    if depth > limit:
        raise bad(f"nests {depth} levels deep; at most {limit} are accepted")
