"""A tiny real HTTP server on 127.0.0.1 that answers from a script, for protocol tests.

Why it exists: some behaviours the client must handle cannot be provoked from a correct
server — a server that advertises ``next`` on an empty page, one whose ``numberMatched``
disagrees with the pages it serves, one that is overloaded (503) for a moment. This
serves standard-shaped OGC API – Features answers over a real socket (the client's whole
HTTP stack runs, retries and connection handling included), and records every request so
a test can say how many were made. It is not a stand-in for this service: every read of
our own server in these tests goes to a live server on both stores.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (path, query) -> (status, headers, JSON body)
Answer = tuple[int, dict[str, str], Any]
Script = Callable[[str, dict[str, str]], Answer]


class StandIn:
    """The running server: its URL and the (path, query) of each request it answered."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.authorization: list[str | None] = []  # the header of each request, or None


def feature(fid: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [55.0 + fid / 100, 25.0]},
        "properties": {"name": f"مكان {fid}", "rank": fid},
    }


def items_page(base: str, fids: list[int], next_offset: int | None, **extra: Any) -> dict:
    """A FeatureCollection page as OGC API – Features Part 1 shapes one."""
    links = [{"rel": "self", "type": "application/geo+json", "href": f"{base}/items"}]
    if next_offset is not None:
        href = f"{base}/items?offset={next_offset}&limit={len(fids) or 3}"
        links.append({"rel": "next", "type": "application/geo+json", "href": href})
    return {
        "type": "FeatureCollection",
        "features": [feature(i) for i in fids],
        "numberReturned": len(fids),
        "links": links,
        **extra,
    }


@contextmanager
def stand_in(script: Script) -> Iterator[StandIn]:
    """Serve ``script`` on a free port of 127.0.0.1 for the ``with`` block."""
    state: dict[str, StandIn] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            state["server"].requests.append((parts.path, query))
            state["server"].authorization.append(self.headers.get("Authorization"))
            status, headers, body = script(parts.path, query)
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["server"] = StandIn(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["server"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
