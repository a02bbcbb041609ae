"""`zonal-stats` for the 300 districts over the raster: our process through HTTP against
exactextract called directly in this process on the same COG and the same polygons.

Both are timed the same way: one untimed run first (page cache, imports), then `repeats`
runs, best and median wall clock. Ours is a whole `POST /processes/zonal-stats/execution`
(zones read from the store, GeoJSON answer); exactextract's is reading the districts file
with GeoPandas and `exact_extract(cog, frame, ...)` with the statistics our process asks
for (mean, min, max, count, each leaving out cells covered below `MIN_COVERAGE`, the
slivers a polygon picks up from rounding). The values are checked to agree district by
district before either time counts.
"""

from __future__ import annotations

import http.client
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from bench.loadgen import HOST

STATS = ("mean", "min", "max", "count")
KEY = "name_en"
# Ours projects the CRS84 polygons into the raster's EPSG:4326 (same coordinates, rounded
# once more), so a hair of tolerance; mean/min/max of float32 cells.
TOLERANCE = {"count": (1e-6, 1e-3), "mean": (1e-6, 1e-4), "min": (0.0, 1e-4), "max": (0.0, 1e-4)}


def _post(port: int, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def ours_once(port: int, raster: str, zones: str) -> tuple[float, dict[str, dict[str, Any]]]:
    inputs = {"raster": {"collection": raster}, "zones": {"collection": zones}}
    started = time.perf_counter()
    status, body = _post(port, "/processes/zonal-stats/execution", {"inputs": inputs})
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"zonal-stats -> HTTP {status}: {body[:300]!r}")
    features = json.loads(body)["features"]
    return seconds, {f["properties"][KEY]: f["properties"] for f in features}


def direct_once(cog: Path, districts: Path) -> tuple[float, dict[str, dict[str, Any]]]:
    import geopandas
    from exactextract import exact_extract

    from gis_service.rasters.zonal import MIN_COVERAGE

    ops = [f"{s}(min_coverage_frac={MIN_COVERAGE})" for s in STATS]
    started = time.perf_counter()
    frame = geopandas.read_file(districts)
    table = exact_extract(str(cog), frame, ops, include_cols=[KEY], output="pandas")
    seconds = time.perf_counter() - started
    return seconds, {row[KEY]: {s: row[s] for s in STATS} for row in table.to_dict("records")}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def agreement(ours: dict[str, dict], theirs: dict[str, dict]) -> dict[str, Any]:
    """District by district, every statistic within TOLERANCE (NaN/null where no cell)."""
    problems: list[str] = []
    if set(ours) != set(theirs):
        problems.append(f"districts differ: {len(ours)} vs {len(theirs)}")
    worst = dict.fromkeys(STATS, 0.0)
    for name in sorted(set(ours) & set(theirs)):
        for stat in STATS:
            a, b = _number(ours[name].get(stat)), _number(theirs[name][stat])
            if stat != "count" and _number(theirs[name]["count"]) == 0:
                b = math.nan  # exactextract's mean of no cells
            if math.isnan(a) and math.isnan(b):
                continue
            rel, absolute = TOLERANCE[stat]
            diff = abs(a - b)
            worst[stat] = max(worst[stat], diff) if not math.isnan(diff) else math.inf
            if not diff <= max(absolute, rel * abs(b)):
                problems.append(f"{name} {stat}: ours {a} vs exactextract {b}")
    return {
        "passed": not problems,
        "districts": len(ours),
        "max_abs_difference": {k: float(f"{v:.3g}") for k, v in worst.items()},
        "problems": problems[:10],
    }


def _times(seconds: list[float]) -> dict[str, Any]:
    return {
        "runs_s": [round(s, 3) for s in seconds],
        "best_s": round(min(seconds), 3),
        "median_s": round(statistics.median(seconds), 3),
    }


def run(
    port: int, raster: str, zones: str, cog: Path, districts: Path, repeats: int
) -> dict[str, Any]:
    """Check, then time both; the ratio is ours ÷ exactextract (median and best)."""
    _, got = ours_once(port, raster, zones)
    _, want = direct_once(cog, districts)
    verdict = agreement(got, want)
    out: dict[str, Any] = {"check": verdict, "districts": len(got), "repeats": repeats}
    if not verdict["passed"]:
        out.update(status="FAILED", reason="; ".join(verdict["problems"][:3]))
        return out
    ours_s, direct_s = [], []
    for _ in range(repeats):  # interleaved, so drift on the machine hits both alike
        ours_s.append(ours_once(port, raster, zones)[0])
        direct_s.append(direct_once(cog, districts)[0])
    out.update(status="ok", ours=_times(ours_s), exactextract=_times(direct_s))
    out["ratio_median"] = round(out["ours"]["median_s"] / out["exactextract"]["median_s"], 2)
    out["ratio_best"] = round(out["ours"]["best_s"] / out["exactextract"]["best_s"], 2)
    return out
