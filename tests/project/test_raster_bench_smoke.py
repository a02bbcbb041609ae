"""The raster benchmark runs end to end in quick mode, without TiTiler, and its checks pass.

Kept in the normal suite (a 1,000 x 1,000 raster, 1 s runs: ~20 s) so the harness cannot
silently rot; it needs no network (the peer is off) and binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
from pathlib import Path

from .bench_runs import run_bench


def test_quick_raster_bench_without_peers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run_bench("rasters.py", "--quick", "--no-peers", "--results", str(results), timeout=180)
    files = list(results.glob("rasters-*.json"))
    assert len(files) == 1
    assert "## Map tiles" in (results / "rasters-latest.md").read_text()
    run = json.loads(files[0].read_text())
    assert run["titiler"] == {}  # no peer in this run
    store = run["stores"]["geopackage"]
    assert store["status"] == "ok", store
    assert set(store["tiles"]) == {"z10", "z12", "z14"}
    for zoom, entry in store["tiles"].items():
        assert entry["status"] == "ok", (zoom, entry)
        check = entry["check"]
        assert check["passed"] is True and not check["failures"], zoom
        assert check["distinct_tiles"] > 0 and entry["paths"] == 200 and entry["requests"] > 0
        assert len(check["decoded"]) == min(6, check["distinct_tiles"])
        for verdict in check["decoded"].values():  # decoded tiles agree with the cells
            assert verdict["passed"] and verdict["mask_agreement"] >= 0.98
        assert entry["rps"] > 0 and entry["p99_ms"] >= entry["p50_ms"] > 0
    assert store["tiles"]["z14"]["check"]["distinct_tiles"] == 200
    zonal = store["zonal"]
    assert zonal["status"] == "ok", zonal
    assert zonal["check"]["passed"] and zonal["check"]["districts"] == 300
    assert zonal["ours"]["best_s"] > 0 and zonal["exactextract"]["best_s"] > 0
    assert zonal["ratio_median"] > 0
    assert {t["target"] for t in run["targets"]} >= {"zonal-stats ≤ 2 × exactextract (median)"}
