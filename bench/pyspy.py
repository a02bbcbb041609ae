"""Optional py-spy profile of the server's workers during one timed run (`--profile`).

py-spy is not a project dependency: `.venv/bin/pip install py-spy` to use this. The raw
(collapsed-stack) output is kept beside the results and summarised into the JSON.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def binary() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, duration: float, out: Path) -> subprocess.Popen | None:
    """Sample every process under `pid` for `duration` seconds; None without py-spy."""
    spy = binary()
    if spy is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "--rate",
        "200",
        "--duration",
        str(max(1, round(duration))),
        "--output",
        str(out),
        "--nonblocking",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, out: Path, top: int = 20) -> dict[str, Any]:
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if not out.exists():
        return {"error": (err or "py-spy wrote nothing").strip()[-300:]}
    return {"raw": out.name, **summarize(out.read_text(), top)}


_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """`func (path/to/module.py:12)` -> `func (module.py)`, so lines of one function merge."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['func']} ({Path(match['file']).name})"


def summarize(raw: str, top: int) -> dict[str, Any]:
    """Share of samples in which each function is on the stack (inclusive) and on top (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(top)]

    return {"samples": total, "inclusive_pct": share(inclusive), "self_pct": share(own)}
