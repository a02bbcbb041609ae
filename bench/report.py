"""Machine description and the results files: `<UTC timestamp>.json` and `latest.md`.

Numbers without the machine they came from cannot be compared, so both files carry it.
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import re
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import targets

WORKLOADS = {
    "W0": "/health (no store)",
    "W1": "bbox ~1 km, limit=100",
    "W2": "item by id",
    "W3": "property equality + numberMatched",
    "W4": "CQL2 filter + bbox ~1 km",
}
PEER_STORE = {"pygeoapi": "geopackage", "tipg": "postgis"}
PACKAGES = ["fastapi", "uvicorn", "uvloop", "httptools", "pyogrio", "shapely", "psycopg", "numpy"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _uvicorn_settings() -> dict[str, str]:
    """Read from `gis-service serve` itself, so the report cannot drift from the code."""
    from gis_service import cli

    source = inspect.getsource(cli.serve)
    found = dict(re.findall(r'\b(http|loop)="(\w+)"', source))
    return {"http": found.get("http", "?"), "loop": found.get("loop", "?")}


def _versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    import pyogrio

    versions["GDAL"] = pyogrio.__gdal_version_string__
    versions["SQLite"] = sqlite3.sqlite_version
    return versions


def loadavg() -> list[float]:
    """Other work on the machine skews every number; the report shows how much there was."""
    return [round(v, 2) for v in os.getloadavg()]


def git_state() -> dict[str, Any]:
    """Which code was measured: the commit, and any uncommitted changes to the service."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    status = git("status", "--porcelain", "--", "gis_service", "pyproject.toml").splitlines()
    dirty = [line.split(maxsplit=1)[-1] for line in status if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "service_changes": dirty}


def machine() -> dict[str, Any]:
    return {
        "loadavg_start": loadavg(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvicorn": _uvicorn_settings(),
        "versions": _versions(),
    }


def write_results(results: dict[str, Any], folder: Path, stamp: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{stamp}.json"
    tmp = folder / f"{stamp}.json.tmp"
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(json_path)
    md_path = folder / "latest.md"
    md_path.write_text(markdown(results, json_path.name))
    return json_path, md_path


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _workload_rows(kind: str, store: dict[str, Any]) -> list[str]:
    rows = []
    for key, title in WORKLOADS.items():
        w = store.get("workloads", {}).get(key)
        if w is None:
            continue
        if w["status"] != "ok":
            reason = w.get("reason", "")
            status = f"**{w['status']}**" if w["status"] == "FAILED" else w["status"]
            rows.append(f"| {kind} | {key} {title} | {status}: {reason} ||||||")
            continue
        rows.append(
            f"| {kind} | {key} {title} | ok | {_num(w['rps'])} | {_num(w['p50_ms'], 2)}"
            f" | {_num(w['p99_ms'], 2)} | {_num(w.get('rps_ratio_to_w0'), 3)}"
            f" | {_num(w.get('p50_ratio_to_w0'), 1)} | {_num(w.get('peak_rss_mb'), 0)} |"
        )
    return rows


def _machine_lines(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    v = m["versions"]
    load = results["load"]
    return [
        f"- Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM,"
        f" Linux {m['kernel']}; load average (1/5/15 min) at start {m['loadavg_start']},"
        f" at end {m.get('loadavg_end', '?')}",
        f"- Code: commit {results['git']['commit']}"
        + (
            f", uncommitted service changes: {', '.join(results['git']['service_changes'])}"
            if results["git"]["service_changes"]
            else ", no uncommitted service changes"
        ),
        f"- Python {m['python']}; uvicorn[standard] {v['uvicorn']} http={m['uvicorn']['http']}"
        f" loop={m['uvicorn']['loop']}, {results['config']['workers']} worker(s);"
        f" GDAL {v['GDAL']}, SQLite {v['SQLite']}",
        f"- Load: {load['description']}",
        f"- Data: {results['data']['count']:,} points ({results['data']['file']},"
        f" {results['data']['size_mb']} MB, generated in {results['data']['seconds']} s"
        f"{' (cached)' if results['data']['cached'] else ''})",
    ]


def _store_notes(kind: str, store: dict[str, Any]) -> list[str]:
    if store.get("status") == "SKIPPED":
        return [f"- {kind}: SKIPPED – {store.get('reason', '')}"]
    notes = [f"- {kind}: {store.get('source', '')}"]
    if store.get("status") == "FAILED":
        notes.append(f"- {kind}: **FAILED** – {store.get('reason', '')}")
    if "server_version" in store:
        notes.append(f"- {kind}: {store['server_version']}")
    server = store.get("server")
    if server:
        notes.append(
            f"- {kind} server: {server['processes']} processes (uvicorn master, workers,"
            f" multiprocessing resource tracker), peak RSS sum {server['peak_rss_mb']:.0f} MB,"
            f" peak PSS sum {server['peak_pss_mb']:.0f} MB; ready in {server['start_seconds']} s"
        )
    return notes


def _import_rows(results: dict[str, Any]) -> list[str]:
    rows = []
    for kind, store in results["stores"].items():
        imp = store.get("import")
        if not imp:
            continue
        ogr = store.get("ogr2ogr", {})
        ogr_text = _num(ogr["seconds"], 1) if "seconds" in ogr else ogr.get("note", "–")
        others = ", ".join(
            f"{name} {_num(o['seconds'], 1)} s"
            for name, o in store.get("import_other_layers", {}).items()
        )
        rows.append(
            f"| {kind} | {_num(imp['seconds'], 1)} | {_num(imp.get('rows_per_second'), 0)}"
            f" | {_num(imp.get('peak_rss_mb'), 0)} | {ogr_text} | {others or '–'} |"
        )
    return rows


def _paging_rows(results: dict[str, Any]) -> list[str]:
    rows = []
    for kind, store in results["stores"].items():
        d = store.get("workloads", {}).get("deep_paging")
        if d is None:
            continue
        if d["status"] != "ok":
            rows.append(f"| {kind} | **{d['status']}** {d.get('reason', '')} |||||||")
            continue
        rows.append(
            f"| {kind} | {d['page']} | {_num(d['page1_mean_ms'], 2)} | {_num(d['deep_mean_ms'], 2)}"
            f" | {_num(d['ratio'], 2)} | {_num(d['offset_mean_ms'], 2)}"
            f" | {_num(d['offset_ratio'], 2)} | {_num(d['check']['walk_seconds'], 1)} |"
        )
    return rows


def markdown(results: dict[str, Any], json_name: str) -> str:
    """The human summary; the JSON file beside it has every number."""
    cfg = results["config"]
    lines = [
        f"# gis-service benchmark – {results['started']}",
        "",
        f"`python bench/run.py {cfg['argv']}` → `{json_name}`",
        "",
        *_machine_lines(results),
        "",
        "| Store | Workload | Status | req/s | p50 ms | p99 ms | req/s ÷ W0 | p50 × W0 |"
        " peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, store in results["stores"].items():
        lines += _workload_rows(kind, store)
    for kind, store in results["stores"].items():
        runs = store.get("workloads", {}).get("W0", {}).get("runs")
        if runs:
            lines.append(
                f"| {kind} | W0 runs (one before and one after each workload; each ratio uses"
                f" the two beside it) | | {', '.join(f'{r[0]:,.0f}' for r in runs)} ||||||"
            )
    for name, peer in results.get("peers", {}).items():
        label = f"{name} (peer, ratios to {PEER_STORE.get(name, '?')} W0)"
        if peer.get("status") not in ("ok", "FAILED") or "workloads" not in peer:
            lines.append(f"| {label} | all | **{peer.get('status')}**: {peer.get('reason')} ||||||")
        else:
            lines += _workload_rows(label, peer)
    lines += [
        "",
        "Deep paging (sequential keep-alive requests, limit=100; ratio = page N mean ÷ page 1"
        " mean):",
        "",
        "| Store | page N | page 1 ms | page N (cursor) ms | ratio | page N (offset) ms"
        " | ratio | walk s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *_paging_rows(results),
        "",
        "Import (`gis-service import`, wall clock including process start):",
        "",
        "| Store | wall s | rows/s (importer's own seconds) | peak RSS MB | ogr2ogr s"
        " | other layers (wall) |",
        "|---|---:|---:|---:|---|---|",
        *_import_rows(results),
        "",
        *_tile_lines(results),
        *_target_lines(results),
    ]
    for kind, store in results["stores"].items():
        lines += _store_notes(kind, store)
    for name, peer in results.get("peers", {}).items():
        lines += _peer_notes(name, peer)
    for note in results.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def _tile_rows(kind: str, w6: dict[str, Any]) -> list[str]:
    rows = []
    keys = list(dict.fromkeys([*w6.get("uncached", {}), *w6.get("cached", {})]))
    for key in keys:
        u, c = w6.get("uncached", {}).get(key, {}), w6.get("cached", {}).get(key, {})
        cells = []
        for e in (u, c):
            if e.get("status") == "ok":
                cells += [_num(e["rps"]), _num(e["p99_ms"], 1)]
            else:
                cells += [f"**{e['status']}**: {e.get('reason', '')}" if e else "–", ""]
        check = (u or c).get("check", {})
        largest = check.get("largest_bytes")
        rows.append(
            f"| {kind} | {key} | {check.get('distinct_tiles', '–')} | {' | '.join(cells)}"
            f" | {_num(largest / 1024 if largest else None, 0)}"
            f" | {_num(u.get('rps_ratio_to_tipg'), 2)} | {_num(c.get('rps_ratio_to_w0'), 3)} |"
        )
    return rows


def _tile_lines(results: dict[str, Any]) -> list[str]:
    """W6 per store, layer and zoom: uncached (cache off) and cached runs side by side."""
    runs = [(k, s) for k, s in results["stores"].items()]
    runs += [(f"{n} (peer)", p) for n, p in results.get("peers", {}).items()]
    rows = []
    for kind, store in runs:
        w6 = store.get("workloads", {}).get("W6")
        if w6 and ("uncached" in w6 or "cached" in w6):
            rows += _tile_rows(kind, w6)
    if not rows:
        return []
    return [
        "W6 vector tiles (200 tiles per layer and zoom, where the data is; uncached: server"
        " tile cache off, every request renders; cached: every tile fetched before the clock"
        " starts):",
        "",
        "| Store | layer zoom | distinct | uncached req/s | p99 ms | cached req/s | p99 ms"
        " | largest KB | uncached ÷ tipg | cached ÷ W0 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def _peer_notes(name: str, peer: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in peer.get("versions", {}).items())
    notes = [f"- {name} (peer): {peer.get('setup', '')} {versions}".rstrip()]
    if peer.get("status") == "FAILED":
        notes.append(f"- {name}: **FAILED** – {peer.get('reason', '')}")
    server = peer.get("server")
    if server:
        notes.append(
            f"- {name} server: {server['processes']} processes, peak RSS sum"
            f" {server['peak_rss_mb']:.0f} MB; ready in {server['start_seconds']} s"
        )
    return notes


def _target_lines(results: dict[str, Any]) -> list[str]:
    """The issue's targets per store, and our throughput over each peer's."""
    lines = ["Targets (W5 downloads: see `bench/exports.py`):", ""]
    lines += ["| Store | Target | Verdict | Value |", "|---|---|---|---|"]
    tipg = results.get("peers", {}).get("tipg")
    for kind, store in results["stores"].items():
        for row in targets.judge(store) + targets.judge_tiles(store, tipg):
            lines.append(f"| {kind} | {row['target']} | {row['verdict']} | {row['value']} |")
    peers = results.get("peers", {})
    if peers:
        names = ["W1", "W2", "W3", "W4"]
        lines += ["", "Our req/s ÷ the peer's (same store kind, same run):", ""]
        lines += ["| Ours vs peer | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for name, peer in peers.items():
            kind = PEER_STORE.get(name, "")
            if kind in results["stores"]:
                cmp = targets.compare_peer(results["stores"][kind], peer, names)
                lines.append(f"| {kind} vs {name} | " + " | ".join(cmp.values()) + " |")
    return [*lines, ""]
