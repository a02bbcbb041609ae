"""Cheap checks before and after the CQL2 parser, which must never crash the process.

cql2-rs recurses per nesting level and per operator in a chain (`NOT NOT ...`, `1+1+...`)
and overflows its stack, killing the whole process (a segfault, not an exception), at a few
thousand levels on a normal thread. So: the size and parenthesis depth are checked first
(outside string literals); the parse runs on a thread with a stack large enough for the
worst 64 KiB input; and the resulting tree's depth is bounded before anything walks it.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import cql2

from .literals import bad

MAX_BYTES = 64 * 1024
MAX_DEPTH = 50
MAX_JSON_DEPTH = 100  # JSON nests twice per operation ({"op": .., "args": [..]})
MAX_TREE_DEPTH = 50  # operations within operations, after parsing
PARSER_STACK = 512 * 1024 * 1024  # address space only; measured enough for 64 KiB chains
_starting = threading.Lock()


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


def parse_text(source: str) -> Any:
    """cql2-text -> the cql2-json tree, parsed on a thread with a deep stack."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            expr = cql2.parse_text(source)
            outcome["tree"] = expr.to_json()
            del expr  # dropped here: freeing a deep tree recurses too
        except Exception as exc:  # cql2 raises its own ParseError / ValueError types
            outcome["error"] = _readable(str(exc))

    with _starting:  # the stack size is process-wide: set it just for this thread
        previous = threading.stack_size(PARSER_STACK)
        try:
            thread = threading.Thread(target=work, name="cql2-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if "error" in outcome:
        raise bad(f"not valid CQL2 text: {outcome['error']}")
    return outcome["tree"]


def _readable(message: str) -> str:
    """pest's multi-line error as one line: where (line, column) and what was expected."""
    where = re.search(r"-->\s*(\d+):(\d+)", message)
    what = re.search(r"=\s*(.+?)\s*$", message)
    if where is None:
        return " ".join(message.split())
    line, column = where.groups()
    return f"at line {line}, column {column}: {what.group(1) if what else 'syntax error'}"


def check_tree_depth(tree: Any) -> None:
    """Operations nested at most MAX_TREE_DEPTH deep (counted without recursion)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if "op" in node:
                depth += 1
                if depth > MAX_TREE_DEPTH:
                    raise bad(f"nests operations more than {MAX_TREE_DEPTH} deep")
            stack.extend((value, depth) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth) for value in node)
