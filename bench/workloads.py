"""The workloads, run the same way against any server: ours on either store, or a peer.

Each target gets the same request lists (only the collection id in the path differs) and
the same checks; a workload a server lacks is recorded "not supported", never timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import checks, procs, pyspy, queries
from bench.checks import CheckFailed, Dataset
from bench.loadgen import Client, LoadResult

N_BOXES = 200
N_IDS = 500
MB = 2**20
CHECK_ERRORS = (CheckFailed, RuntimeError, OSError, ValueError, KeyError, TypeError)


@dataclass
class Target:
    """One server under test and what it can be asked."""

    name: str
    collection: str
    health: str | None = "/health"  # W0 (our own app only: the stack's limit)
    tiles: str | None = None  # W6 path template ({layer}, {z}, {row}, {col}), None: no tiles
    unsupported: dict[str, str] = field(default_factory=dict)  # workload -> why not
    require_count: bool = True  # W1: numberMatched must be present
    deep_paging: bool = True


class Runner:
    """Runs one load (wrk or the Python loop) against a port; see run.Load."""

    cfg: Any

    def run(self, port: int, paths: list[str], name: str) -> LoadResult:  # pragma: no cover
        raise NotImplementedError


def measure(
    name: str,
    paths: list[str],
    check: Callable[[], dict[str, Any]],
    server: procs.Server,
    rss: procs.RssSampler,
    load: Runner,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Check first; only a workload that answered correctly gets timed (after a warm-up)."""
    try:
        verdict = check()
    except CHECK_ERRORS as exc:
        return {"status": "FAILED", "reason": f"correctness check: {exc}"}
    rss.new_window()
    spy = pyspy.start(server.pid, load.cfg.duration, profile) if profile else None
    try:
        result = load.run(server.port, paths, name)
    finally:
        profile_summary = pyspy.finish(spy, profile) if spy and profile else None
    entry: dict[str, Any] = {
        "status": "ok",
        "check": verdict,
        "distinct_paths": len(paths),
        **result.as_dict(),
        "peak_rss_mb": round(rss.window_peak / MB, 1),
    }
    if profile_summary:
        entry["profile"] = profile_summary
    if result.status_errors or not result.requests:
        entry["status"] = "FAILED"
        entry["reason"] = f"{result.status_errors} error responses of {result.requests}"
    return entry


def add_ratios(workloads: dict[str, dict[str, Any]], base: dict[str, Any] | None) -> None:
    """Each workload relative to W0 of the same store and run: what the store work costs.

    W0 is measured again after every workload (`run_target`); a workload is divided by
    the mean of the W0 runs just before and after it, since this machine's throughput
    drifts by tens of per cent between runs a minute apart. A peer, measured later, is
    divided by the mean of all W0 runs of its store."""
    if not base or base.get("status") != "ok":
        return
    for entry in workloads.values():
        if entry.get("status") == "ok" and "rps" in entry and "p50_ms" in entry:
            w0_rps, w0_p50 = entry.get("w0_beside") or (base["rps"], base["p50_ms"])
            entry["rps_ratio_to_w0"] = round(entry["rps"] / w0_rps, 4)
            entry["p50_ratio_to_w0"] = round(entry["p50_ms"] / w0_p50, 2)


def _baseline_again(
    out: dict[str, dict[str, Any]], name: str, measure_w0: Callable[[], dict[str, Any]]
) -> None:
    """After workload `name`: W0 once more, and the mean of W0 beside `name` noted on it."""
    runs = out["W0"].setdefault("runs", [[out["W0"]["rps"], out["W0"]["p50_ms"]]])
    again = measure_w0()
    if again.get("status") != "ok":
        return
    runs.append([again["rps"], again["p50_ms"]])
    before, after = runs[-2], runs[-1]
    if out[name].get("status") == "ok":
        out[name]["w0_beside"] = [(before[0] + after[0]) / 2, (before[1] + after[1]) / 2]
    # the W0 row reports the mean over all its runs (each run is in "runs")
    out["W0"]["rps"] = round(sum(r[0] for r in runs) / len(runs), 1)
    out["W0"]["p50_ms"] = round(sum(r[1] for r in runs) / len(runs), 2)


def request_lists(data: Dataset, seed: int) -> dict[str, Any]:
    """Boxes, ids and tile points drawn once per run, so every server gets the same lists."""
    rng = np.random.default_rng([seed, 2])
    boxes = checks.random_boxes(data, N_BOXES, rng)
    ids = rng.integers(1, data.count + 1, N_IDS)
    return {"boxes": boxes, "ids": ids}


def _workload_specs(
    target: Target, client: Client, data: Dataset, lists: dict[str, Any]
) -> dict[str, tuple[list[str], Callable[[], dict[str, Any]]]]:
    c = target.collection
    boxes, ids = lists["boxes"], lists["ids"]
    specs: dict[str, tuple[list[str], Callable[[], dict[str, Any]]]] = {}
    if target.health:
        health = target.health
        specs["W0"] = ([health], lambda: checks.check_health(client))
    specs["W1"] = (
        checks.bbox_paths(c, boxes),
        lambda: checks.check_bbox_workload(
            client, c, data, boxes, require_count=target.require_count
        ),
    )
    specs["W2"] = (
        checks.item_paths(c, ids),
        lambda: checks.check_item_workload(client, c, data, ids),
    )
    specs["W3"] = (
        queries.equality_paths(c),
        lambda: queries.check_equality_workload(client, c, data),
    )
    specs["W4"] = (
        queries.filter_paths(c, boxes),
        lambda: queries.check_filter_workload(client, c, data, boxes),
    )
    return specs


def run_target(
    target: Target,
    server: procs.Server,
    rss: procs.RssSampler,
    data: Dataset,
    lists: dict[str, Any],
    load: Runner,
    *,
    deep_page: int,
    paging_repeats: int,
    profile: Path | None = None,
    only: frozenset[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every workload the target supports (of `only`, when given; W0 always), checked then
    timed; the rest say why not. W6 (tiles) is run by `bench.tiles`, not here."""
    client = Client(server.port)
    out: dict[str, dict[str, Any]] = {}
    try:
        specs = _workload_specs(target, client, data, lists)
        w0 = specs.get("W0")
        for name, (paths, check) in specs.items():
            if only is not None and name != "W0" and name not in only:
                continue
            if name in target.unsupported:
                out[name] = {"status": "not supported", "reason": target.unsupported[name]}
                continue
            print(f"  [{target.name}] {name}", flush=True)
            spy = profile if name == "W1" else None
            out[name] = measure(f"{target.name}-{name}", paths, check, server, rss, load, spy)
            if name != "W0" and out.get("W0", {}).get("status") == "ok":
                _baseline_again(
                    out, name, lambda: measure(f"{target.name}-W0", *w0, server, rss, load)
                )
        if "W6" in target.unsupported:
            out["W6"] = {"status": "not supported", "reason": target.unsupported["W6"]}
        elif target.health:  # ours; replaced by bench.tiles' results when tiles are run
            out["W6"] = {"status": "not implemented", "reason": "W6 not run (see --tiles)"}
        if target.deep_paging and (only is None or "deep_paging" in only):
            try:
                out["deep_paging"] = checks.deep_paging(
                    client, target.collection, data, deep_page, paging_repeats
                )
            except CHECK_ERRORS as exc:
                out["deep_paging"] = {"status": "FAILED", "reason": f"{exc}"}
    finally:
        client.close()
    return out
