"""The raster benchmark's targets and its results files: `rasters-<UTC timestamp>.json`
and `rasters-latest.md` (machine, versions, tables, targets met / NOT met)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import report

PACKAGES = ["rio-tiler", "rasterio", "rio-cogeo", "exactextract", "morecantile", "uvicorn"]
TILE_TARGET = 1.0  # ours ÷ TiTiler req/s, every zoom
ZONAL_TARGET = 2.0  # ours ÷ exactextract seconds (median)


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    import rasterio

    out["GDAL"] = rasterio.__gdal_version__
    return out


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per store: tiles ≥ TiTiler's rate at every zoom; zonal-stats ≤ 2 × exactextract."""
    verdicts = []
    for kind, store in results["stores"].items():
        if store.get("status") == "SKIPPED":
            continue
        for zoom, entry in store.get("tiles", {}).items():
            theirs = store.get("titiler_tiles", {}).get(zoom, {})
            ratio = entry.get("ratio_to_titiler")
            verdicts.append(
                {
                    "store": kind,
                    "target": f"{zoom} tiles ≥ TiTiler's req/s",
                    "value": ratio,
                    "met": None
                    if ratio is None or theirs.get("status") != "ok"
                    else ratio >= TILE_TARGET,
                }
            )
        zonal = store.get("zonal", {})
        ratio = zonal.get("ratio_median")
        verdicts.append(
            {
                "store": kind,
                "target": "zonal-stats ≤ 2 × exactextract (median)",
                "value": ratio,
                "met": None if ratio is None else ratio <= ZONAL_TARGET,
            }
        )
    return verdicts


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)


def _tile_cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "– | – | –"
    if entry.get("status") != "ok":
        return f"**{entry.get('status')}**: {entry.get('reason', '')[:80]} | |"
    return f"{_num(entry['rps'])} | {_num(entry['p50_ms'], 2)} | {_num(entry['p99_ms'], 2)}"


def _tile_rows(results: dict[str, Any]) -> list[str]:
    rows = [
        "| store | zoom | distinct tiles | ours req/s | p50 ms | p99 ms"
        " | TiTiler req/s | p50 ms | p99 ms | ours ÷ TiTiler | KB a tile, ours / TiTiler's |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, store in results["stores"].items():
        peer = store.get("titiler_tiles", {})
        for zoom, entry in store.get("tiles", {}).items():
            distinct = entry.get("check", {}).get("distinct_tiles")
            rows.append(
                f"| {kind} | {zoom} | {_num(distinct, 0)} | {_tile_cell(entry)}"
                f" | {_tile_cell(peer.get(zoom))} | {_num(entry.get('ratio_to_titiler'), 2)}"
                f" | {_num(entry.get('kb_per_response'))}"
                f" / {_num(peer.get(zoom, {}).get('kb_per_response'))} |"
            )
    return rows


def _agreement_lines(results: dict[str, Any]) -> list[str]:
    """How the decoded tiles compared: with the COG's cells, and TiTiler's with ours."""
    lines = []
    for kind, store in results["stores"].items():
        decoded = [
            v for e in store.get("tiles", {}).values() for v in e["check"]["decoded"].values()
        ]
        if decoded:
            lines.append(
                f"- {kind}: {len(decoded)} decoded tiles against the COG's cells: transparent"
                f" mask agrees on ≥ {min(v['mask_agreement'] for v in decoded):.2%} of pixels,"
                f" ramp index within 5 steps on ≥ {min(v['index_within_5'] for v in decoded):.2%}"
            )
        same = [e["same_as_ours"] for e in store.get("titiler_tiles", {}).values()]
        same = [s for s in same if s.get("tiles")]
        if same:
            lines.append(
                f"- {kind}: TiTiler's decoded tiles against ours ({sum(s['tiles'] for s in same)}"
                f" tiles): identical RGBA on ≥ {min(s['identical_pixels_min'] for s in same):.2%}"
                f" of pixels, identical transparency on"
                f" ≥ {min(s['identical_mask_min'] for s in same):.2%}"
            )
    return lines


def _zonal_rows(results: dict[str, Any]) -> list[str]:
    rows = [
        "| store | districts | ours best s | ours median s | exactextract best s"
        " | exactextract median s | ratio (median) | values agree |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind, store in results["stores"].items():
        z = store.get("zonal")
        if not z:
            continue
        if z.get("status") != "ok":
            rows.append(f"| {kind} | **{z.get('status')}**: {z.get('reason', '')} |||||||")
            continue
        o, e = z["ours"], z["exactextract"]
        worst = z["check"]["max_abs_difference"]
        rows.append(
            f"| {kind} | {z['districts']} | {o['best_s']} | {o['median_s']} | {e['best_s']}"
            f" | {e['median_s']} | {z['ratio_median']} | yes (max |Δ| mean {worst['mean']},"
            f" count {worst['count']}) |"
        )
    return rows


def _header(results: dict[str, Any]) -> list[str]:
    m, data, cfg = results["machine"], results["data"], results["config"]
    v = {**m["versions"], **results["raster_versions"]}
    peer = results.get("titiler", {})
    lines = [
        f"# Raster benchmark – {results['started']}",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM,"
        f" Linux {m['kernel']}; load average at start {m['loadavg_start']},"
        f" at end {m.get('loadavg_end', '?')}",
        f"- Code: commit {results['git']['commit']}"
        + (
            f", uncommitted service changes: {', '.join(results['git']['service_changes'])}"
            if results["git"]["service_changes"]
            else ", no uncommitted service changes"
        ),
        f"- Python {m['python']}; uvicorn {v['uvicorn']}, {cfg['workers']} workers each;"
        f" rio-tiler {v['rio-tiler']}, rasterio {v['rasterio']}, GDAL {v['GDAL']},"
        f" exactextract {v['exactextract']}, rio-cogeo {v['rio-cogeo']}",
        f"- Load: {results['load']}",
        f"- Raster: {data['size']:,} × {data['size']:,} float32 (dBm, SYNTHETIC), EPSG:4326,"
        f" COG {data['cog_mb']} MB ({data['file']}{', cached' if data['cached'] else ''});"
        f" tiles drawn with colormap=viridis, rescale={data['rescale']}",
        "- Our tile cache: off (GIS_TILE_CACHE_MB=0): every request renders its tile",
    ]
    if peer.get("status") == "ok":
        lines.append(f"- TiTiler: {peer['setup']}; versions {peer['versions']}")
    elif peer:
        lines.append(f"- TiTiler: **{peer.get('status')}** – {peer.get('reason', '')}")
    for kind, store in results["stores"].items():
        if store.get("status") in ("SKIPPED", "FAILED"):
            lines.append(f"- {kind}: **{store['status']}** – {store.get('reason', '')}")
    return lines


def markdown(results: dict[str, Any], json_name: str) -> str:
    rounds = results["config"]["rounds"]
    lines = [*_header(results), "", "## Map tiles (uncached)", "", *_tile_rows(results), ""]
    lines.append(
        f"Each server's best of {rounds} alternating rounds per zoom (ours, TiTiler, ours, ...;"
        " every round is in the JSON). Every distinct tile was checked first:"
    )
    lines += ["", *_agreement_lines(results)]
    lines += ["", "## zonal-stats, 300 districts", "", *_zonal_rows(results), "", "## Targets", ""]
    for v in results["targets"]:
        met = {True: "met", False: "**NOT met**", None: "not measured"}[v["met"]]
        lines.append(f"- {v['store']}: {v['target']}: {_num(v['value'], 2)} – {met}")
    lines += ["", *[f"- {note}" for note in results.get("notes", [])], ""]
    lines.append(f"Full results: `{json_name}`.")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], folder: Path, stamp: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"rasters-{stamp}.json"
    tmp = folder / f"rasters-{stamp}.json.tmp"
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(json_path)
    md_path = folder / "rasters-latest.md"
    md_path.write_text(markdown(results, json_path.name))
    return json_path, md_path


def machine() -> dict[str, Any]:
    return report.machine()
