"""Load generation against 127.0.0.1 only: Debian's wrk when present, else a Python loop.

wrk is preferred because a Python client on the same two cores saturates long before the
server does; the fallback exists so the harness still runs (and says so) without wrk.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

HOST = "127.0.0.1"
LUA_SCRIPT = Path(__file__).resolve().parent / "paths.lua"


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1, reopened once after a failure."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get_json(self, path: str) -> Any:
        """The decoded body; any status but 200 is an error the caller reports."""
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} -> HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    def close(self) -> None:
        self.conn.close()


def local_path(href: str) -> str:
    """Path and query of a link the server built, so requests never leave 127.0.0.1."""
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class LoadResult:
    """Throughput and latency of one timed run, in the same units whichever tool ran it."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    status_errors: int = 0
    socket_errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "mean_ms": round(self.mean_ms, 3),
            "status_errors": self.status_errors,
            "socket_errors": self.socket_errors,
            **self.extra,
        }


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def wrk_version(binary: str) -> str:
    """`wrk -v` prints its version then usage, and exits 1."""
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr or "?").splitlines()[0]
    return first.split(" Copyright")[0].strip()


def run_wrk(
    binary: str,
    port: int,
    paths_file: Path,
    *,
    duration: float,
    threads: int,
    connections: int,
) -> LoadResult:
    """One bounded wrk run; the Lua script cycles through `paths_file`."""
    cmd = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        f"http://{HOST}:{port}",
        "--",
        str(paths_file),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    s = json.loads(line.removeprefix("WRK_JSON "))
    return LoadResult(
        tool="wrk",
        requests=s["requests"],
        seconds=s["duration_us"] / 1e6,
        p50_ms=s["p50_us"] / 1e3,
        p99_ms=s["p99_us"] / 1e3,
        mean_ms=s["mean_us"] / 1e3,
        status_errors=s["status_errors"],
        socket_errors=s["connect_errors"] + s["read_errors"] + s["write_errors"] + s["timeouts"],
        extra={"bytes": s["bytes"], "command": " ".join([*cmd[:-3], "URL", "--", "PATHS"])},
    )


def _python_worker(
    port: int, paths: list[str], start: int, deadline: float, out: list[tuple[float, int]]
) -> None:
    client = Client(port, timeout=10)
    i = start
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                status, _ = client.get(paths[i % len(paths)])
            except OSError:
                status = -1
            out.append((time.perf_counter() - t0, status))
            i += 1
    finally:
        client.close()


def run_python(port: int, paths: list[str], *, duration: float, connections: int) -> LoadResult:
    """Fallback load: `connections` threads, each with its own keep-alive connection."""
    results: list[list[tuple[float, int]]] = [[] for _ in range(connections)]
    started = time.perf_counter()
    deadline = started + duration
    workers = [
        threading.Thread(target=_python_worker, args=(port, paths, k * 7919, deadline, results[k]))
        for k in range(connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    samples = [s for per_thread in results for s in per_thread]
    latencies = np.array([s[0] for s in samples]) * 1e3 if samples else np.zeros(1)
    statuses = np.array([s[1] for s in samples]) if samples else np.zeros(0)
    return LoadResult(
        tool="python",
        requests=len(samples),
        seconds=seconds,
        p50_ms=float(np.percentile(latencies, 50)),
        p99_ms=float(np.percentile(latencies, 99)),
        mean_ms=float(latencies.mean()),
        status_errors=int((statuses >= 400).sum()),
        socket_errors=int((statuses == -1).sum()),
    )


def timed_gets(client: Client, paths: list[str], repeats: int) -> dict[str, list[float]]:
    """Latency (ms) of each path, requests interleaved so drift hits every path alike."""
    times: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(repeats):
        for path in paths:
            t0 = time.perf_counter()
            status, _ = client.get(path)
            elapsed = (time.perf_counter() - t0) * 1e3
            if status != 200:
                raise RuntimeError(f"GET {path} -> HTTP {status}")
            times[path].append(elapsed)
    return times
