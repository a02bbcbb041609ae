"""The issue's targets, judged from one run's results (ratios to W0 of the same store and run).

Written into the JSON and latest.md so a run says for itself which targets hold; W5
(downloads) is measured by bench/exports.py and judged there.
"""

from __future__ import annotations

from typing import Any


def _w(store: dict[str, Any], name: str) -> dict[str, Any]:
    return store.get("workloads", {}).get(name) or {}


def _ratio_target(store: dict[str, Any], name: str, minimum: float) -> tuple[str, str]:
    w = _w(store, name)
    if w.get("status") != "ok":
        return "–", f"{name} {w.get('status', 'not run')}"
    ratio = w.get("rps_ratio_to_w0")
    if ratio is None:
        return "–", "no W0 to compare with"
    return ("met" if ratio >= minimum else "NOT met"), f"{ratio:.3f} of W0"


def judge(store: dict[str, Any]) -> list[dict[str, str]]:
    """One row per target: what it asks, met / NOT met / – (not measurable), the number."""
    rows = []

    def add(target: str, verdict: tuple[str, str]) -> None:
        rows.append({"target": target, "verdict": verdict[0], "value": verdict[1]})

    verdict, value = _ratio_target(store, "W1", 0.10)
    p99 = _w(store, "W1").get("p99_ms")
    if p99 is not None:
        value += f", p99 {p99:.1f} ms"
        if p99 >= 50 and verdict == "met":
            verdict = "NOT met"
    add("W1 >= 10 % of W0, p99 < 50 ms", (verdict, value))
    add("W2 >= 40 % of W0", _ratio_target(store, "W2", 0.40))
    add("W3 (numberMatched) >= 5 % of W0", _ratio_target(store, "W3", 0.05))
    deep = _w(store, "deep_paging")
    if deep.get("status") == "ok":
        ok = deep["ratio"] <= 1.5
        add(
            f"deep paging: page {deep['page']} <= 1.5 x page 1",
            ("met" if ok else "NOT met", f"{deep['ratio']:.2f}x"),
        )
    imp, ogr = store.get("import", {}), store.get("ogr2ogr", {})
    if imp and "seconds" in ogr:
        factor = imp["seconds"] / ogr["seconds"]
        add("W7 import <= 2 x ogr2ogr", ("met" if factor <= 2 else "NOT met", f"{factor:.1f}x"))
    else:
        add("W7 import <= 2 x ogr2ogr", ("–", ogr.get("note", "not measured")))
    return rows


def judge_tiles(store: dict[str, Any], tipg: dict[str, Any] | None) -> list[dict[str, str]]:
    """W6: uncached >= 5 x tipg (same layer and zoom, same run), cached >= 40 % of W0,
    p99 < 100 ms everywhere, no tile over 500 KB; one row per layer and zoom."""
    w6 = _w(store, "W6")
    if "uncached" not in w6 and "cached" not in w6:
        return []
    peer = _w(tipg or {}, "W6").get("uncached", {})
    rows = []
    keys = list(dict.fromkeys([*w6.get("uncached", {}), *w6.get("cached", {})]))
    for key in keys:
        u, c = w6.get("uncached", {}).get(key, {}), w6.get("cached", {}).get(key, {})
        t = peer.get(key, {})
        rows.append(_row(f"W6 {key} uncached >= 5 x tipg", _tipg_verdict(u, t)))
        rows.append(_row(f"W6 {key} cached >= 40 % of W0", _w0_verdict(c)))
        p99s = [e["p99_ms"] for e in (u, c) if e.get("status") == "ok"]
        largest = (u or c).get("check", {}).get("largest_bytes")
        if p99s and largest is not None:
            ok = max(p99s) < 100 and largest <= 500 * 1024
            value = (
                f"p99 {' / '.join(f'{p:.0f}' for p in p99s)} ms, largest {largest / 1024:.0f} KB"
            )
            rows.append(_row(f"W6 {key} p99 < 100 ms, tile <= 500 KB", (_yes(ok), value)))
    return rows


def _yes(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _row(target: str, verdict: tuple[str, str]) -> dict[str, str]:
    return {"target": target, "verdict": verdict[0], "value": verdict[1]}


def _tipg_verdict(ours: dict[str, Any], tipg: dict[str, Any]) -> tuple[str, str]:
    if ours.get("status") != "ok":
        return "–", f"uncached {ours.get('status', 'not run')}"
    if tipg.get("status") != "ok" or not tipg.get("rps"):
        return "–", f"tipg {tipg.get('status', 'not run')}"
    ratio = ours["rps"] / tipg["rps"]
    return _yes(ratio >= 5), f"{ratio:.1f}x ({ours['rps']:.0f} vs {tipg['rps']:.0f} req/s)"


def _w0_verdict(cached: dict[str, Any]) -> tuple[str, str]:
    ratio = cached.get("rps_ratio_to_w0")
    if cached.get("status") != "ok" or ratio is None:
        return "–", f"cached {cached.get('status', 'not run')}"
    return _yes(ratio >= 0.40), f"{ratio:.3f} of W0"


def compare_peer(ours: dict[str, Any], peer: dict[str, Any], names: list[str]) -> dict[str, str]:
    """Our req/s over the peer's, per workload both answered correctly."""
    out = {}
    for name in names:
        a, b = _w(ours, name), _w(peer, name)
        if a.get("status") == "ok" and b.get("status") == "ok" and b.get("rps"):
            out[name] = f"{a['rps'] / b['rps']:.1f}x"
        else:
            out[name] = "–"
    return out
