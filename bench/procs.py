"""Processes the harness starts and must always stop: servers, imports, a PostGIS cluster.

Memory is read from /proc (VmRSS, summed over a process and its descendants) so the
harness needs nothing beyond the project's own dependencies.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import HOST, Client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gis_service_command() -> list[str]:
    """The project's own console script, from the running interpreter's venv if there."""
    script = Path(sys.executable).parent / "gis-service"
    if script.exists():
        return [str(script)]
    found = shutil.which("gis-service")
    return [found] if found else [sys.executable, "-m", "gis_service.cli"]


def uvicorn_command(venv: Path, app: str, port: int, workers: int) -> list[str]:
    """A peer's server as its docs run it: uvicorn APP --workers N on 127.0.0.1, quiet."""
    return [
        str(venv / "bin" / "uvicorn"),
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (uvicorn's master and its spawned workers)."""
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _proc_kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes(pid: int) -> int:
    return _proc_kib(f"/proc/{pid}/status", "VmRSS:") * 1024


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared library pages split between the processes sharing them."""
    return _proc_kib(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024


class RssSampler:
    """Samples the summed RSS (and PSS) of a process tree in a thread; peaks overall and per window.

    RSS sums count shared pages (the same libraries in every worker) once per process, so
    PSS is kept too: it is the better measure of what N workers really cost together.
    """

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peak = 0
        self.window_peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        pids = process_tree(self.root)
        total = sum(rss_bytes(pid) for pid in pids)
        self.peak_pss = max(self.peak_pss, sum(pss_bytes(pid) for pid in pids))
        self.peak = max(self.peak, total)
        self.window_peak = max(self.window_peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def new_window(self) -> None:
        self.window_peak = self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process we started, then SIGKILL its own process group if anything lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group start_new_session made for this child
    proc.wait(timeout=10)


@dataclass
class Server:
    pid: int
    port: int
    start_seconds: float
    log: Path


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(
    proc: subprocess.Popen,
    port: int,
    workers: int,
    log: Path,
    timeout: float,
    ready_path: str = "/health",
) -> None:
    """`ready_path` answers and every worker exists (they start at slightly different times)."""
    deadline = time.monotonic() + timeout
    client = Client(port, timeout=2)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}):\n{_tail(log)}")
            try:
                status, _ = client.get(ready_path)
            except OSError:
                status = 0
            ready_workers = workers == 1 or len(process_tree(proc.pid)) >= workers + 1
            if status == 200 and ready_workers:
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise RuntimeError(f"no answer to {ready_path} within {timeout:.0f} s:\n{_tail(log)}")


@contextmanager
def serve(
    store: str, *, workers: int, env: dict[str, str], log: Path, timeout: float = 90.0
) -> Iterator[Server]:
    """`gis-service serve` on a free 127.0.0.1 port, stopped on the way out whatever happens."""
    port = free_port()
    cmd = [
        *gis_service_command(),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--store",
        store,
        "--workers",
        str(workers),
    ]
    with serve_command(cmd, port=port, workers=workers, env=env, log=log, timeout=timeout) as s:
        yield s


@contextmanager
def serve_command(
    cmd: list[str],
    *,
    port: int,
    workers: int,
    env: dict[str, str],
    log: Path,
    timeout: float = 90.0,
    ready_path: str = "/health",
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Any HTTP server command (ours or a peer's), stopped on the way out whatever happens."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "w") as handle:
        proc = subprocess.Popen(
            cmd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        _wait_ready(proc, port, workers, log, timeout, ready_path)
        yield Server(proc.pid, port, time.perf_counter() - started, log)
    finally:
        _stop_group(proc)


@dataclass
class Timed:
    seconds: float
    peak_rss: int
    stdout: str


def run_timed(cmd: list[str], *, env: dict[str, str], timeout: float) -> Timed:
    """Run a command to completion, timing it and sampling its peak RSS; raise on failure."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        with RssSampler(proc.pid, interval=0.25) as sampler:
            out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            _stop_group(proc, grace=5)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        command = " ".join(cmd[:3])
        raise RuntimeError(f"{command} ... exited {proc.returncode}: {err.strip()[-800:]}")
    return Timed(seconds=seconds, peak_rss=sampler.peak, stdout=out)


@contextmanager
def postgis_url() -> Iterator[tuple[str | None, str]]:
    """(URL, how it was obtained); URL None when there is no PostGIS to use."""
    given = os.environ.get("GIS_BENCH_POSTGIS_URL")
    if given:
        yield given, "GIS_BENCH_POSTGIS_URL"
        return
    from tests.pgcluster import Cluster, postgis_available

    if not postgis_available():
        yield None, "PostgreSQL/PostGIS binaries are not installed"
        return
    cluster = Cluster()
    try:
        url = cluster.start()
        yield url, "throwaway cluster from tests/pgcluster.py (fsync=off)"
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop()  # raises when it never started, but still removes the folder
