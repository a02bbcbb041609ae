"""The benchmark harness runs end to end in quick mode and its correctness checks pass.

Kept in the normal suite (quick mode takes ~15 s) so the harness cannot silently rot.
"""

from __future__ import annotations

import json
from pathlib import Path

from .bench_runs import run_bench


def test_quick_bench_on_geopackage(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run_bench("run.py", "--quick", "--stores", "geopackage", "--results", str(results), timeout=120)
    files = list(results.glob("*.json"))
    assert len(files) == 1
    assert (results / "latest.md").exists()
    store = json.loads(files[0].read_text())["stores"]["geopackage"]
    assert store["status"] == "ok", store
    assert store["import"]["seconds"] > 0
    workloads = store["workloads"]
    assert set(workloads) >= {"W0", "W1", "W2", "W3", "W4", "W6", "deep_paging"}
    for name in ("W0", "W1", "W2", "W3", "W4", "deep_paging"):
        entry = workloads[name]
        assert entry["status"] == "ok", (name, entry)
        assert entry["check"]["passed"] is True, name
        assert entry["rps"] > 0, name
    assert workloads["W1"]["check"]["requests_checked"] == 200
    assert len(workloads["W1"]["check"]["exact_id_sets"]) == 5
    assert workloads["W1"]["rps_ratio_to_w0"] > 0
    assert workloads["deep_paging"]["ratio"] > 0
    assert workloads["W3"]["check"]["requests_checked"] == len(workloads["W3"]["check"]["matched"])
    assert workloads["W4"]["check"]["requests_checked"] == 200
    assert workloads["W6"]["status"] == "not implemented"
    assert set(store["import_other_layers"]) == {"facilities_subset", "coverage", "districts"}
    assert json.loads(files[0].read_text())["peers"] == {}  # peers are off in --quick
