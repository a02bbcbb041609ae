"""Raster map tiles: which tiles are asked for, what a right answer is, and their timing.

Per zoom, 200 requests for tiles whose centre lies in the raster and that hold data (the
sea, nodata, is a formula in `raster_data`): distinct tiles drawn without replacement, or
at a low zoom with fewer tiles than that, every one of them, repeated to 200. Checked
before anything is timed: every distinct tile answers 200 with a 256 x 256 PNG; a few per
zoom are decoded and compared with the COG's own cells (nearest cell at each pixel's
centre, through the ramp): the transparent mask and the ramp index must agree. The peer's
tiles are held to the same check and compared with ours pixel by pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import raster_data
from bench.generate import AREA
from bench.loadgen import Client, LoadResult, run_python, run_wrk

TILE = 256
PER_ZOOM = 200
DECODED_PER_ZOOM = 6  # tiles per zoom compared with the cells (and with the peer's)
COLORMAP = "viridis"
RESCALE = f"{raster_data.LOW:g},{raster_data.HIGH:g}"
EARTH_RADIUS = 6378137.0
# A decoded tile passes when its mask agrees with the cells' on 98 % of pixels and the ramp
# index of 95 % of the pixels valid in both is within 5 steps (70 dB / 255: 0.27 dB a step);
# overviews are averages of 0.3 dB noise where the truth is one cell, hence the slack.
MASK_AGREEMENT = 0.98
INDEX_STEPS = 5
INDEX_SHARE = 0.95

Tile = tuple[int, int, int]  # z, row, col


def ours_path(collection: str, tile: Tile) -> str:
    z, row, col = tile
    return (
        f"/collections/{collection}/map/tiles/WebMercatorQuad/{z}/{row}/{col}"
        f"?colormap={COLORMAP}&rescale={RESCALE}"
    )


def _pixel_lonlat(tile: Tile, samples: int = TILE) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of `samples` x `samples` pixel centres of a WebMercatorQuad tile."""
    z, row, col = tile
    span = 2 * math.pi * EARTH_RADIUS / 2**z
    left = -math.pi * EARTH_RADIUS + col * span
    top = math.pi * EARTH_RADIUS - row * span
    offsets = (np.arange(samples) + 0.5) * span / samples
    x = left + offsets
    y = top - offsets
    lon = np.degrees(x / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(y / EARTH_RADIUS)) - math.pi / 2)
    return np.broadcast_to(lon[None, :], (samples, samples)), np.broadcast_to(
        lat[:, None], (samples, samples)
    )


def _holds_data(tile: Tile) -> bool:
    lon, lat = _pixel_lonlat(tile, 16)
    inside = (lon >= AREA[0]) & (lon < AREA[2]) & (lat > AREA[1]) & (lat <= AREA[3])
    return float((inside & ~raster_data.is_sea(lon, lat)).mean()) >= 0.05


def tile_lists(zooms: list[int], seed: int) -> dict[int, list[Tile]]:
    """`PER_ZOOM` tiles per zoom, seeded; distinct where the zoom has that many."""
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    rng = np.random.default_rng([seed, 22])
    out: dict[int, list[Tile]] = {}
    for z in zooms:
        candidates = []
        for t in tms.tiles(*AREA, [z]):
            lon, lat = _pixel_lonlat((z, t.y, t.x), 1)
            centre_inside = AREA[0] <= lon[0, 0] <= AREA[2] and AREA[1] <= lat[0, 0] <= AREA[3]
            if centre_inside and _holds_data((z, t.y, t.x)):
                candidates.append((z, t.y, t.x))
        if not candidates:
            raise RuntimeError(f"no tile at z{z} holds data")
        if len(candidates) >= PER_ZOOM:
            picked = rng.choice(len(candidates), PER_ZOOM, replace=False)
        else:
            rest = rng.choice(len(candidates), PER_ZOOM - len(candidates), replace=True)
            picked = np.concatenate([rng.permutation(len(candidates)), rest])
        out[z] = [candidates[int(i)] for i in picked]
    return out


def expected(cog: Path, tile: Tile) -> tuple[np.ndarray, np.ndarray]:
    """(valid mask, ramp index 0-255) of the tile from the COG's full-resolution cells."""
    import rasterio
    from rasterio.windows import Window

    lon, lat = _pixel_lonlat(tile)
    with rasterio.open(cog) as ds:
        grid = raster_data.Grid(ds.width)
        rows, cols = grid.cell_of(lon, lat)
        on = rows >= 0
        values = np.full(rows.shape, raster_data.NODATA, dtype="float64")
        if on.any():
            r0, r1 = int(rows[on].min()), int(rows[on].max()) + 1
            c0, c1 = int(cols[on].min()), int(cols[on].max()) + 1
            cells = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            values[on] = cells[rows[on] - r0, cols[on] - c0]
    valid = values != raster_data.NODATA
    low, high = raster_data.LOW, raster_data.HIGH
    index = np.clip((values - low) / (high - low) * 255, 0, 255).astype(np.int64)
    return valid, index


def decode_png(body: bytes) -> np.ndarray:
    """The PNG's bands (GDAL's PNG driver), or ValueError when it is not a PNG."""
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no georeference
    if not body.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"not a PNG: {body[:16]!r}")
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), MemoryFile(body) as mem, mem.open() as ds:
        return ds.read()


def _ramp_lookup() -> dict[int, int]:
    from gis_service.rasters import colormaps

    lookup: dict[int, int] = {}
    for index, (r, g, b, _a) in sorted(colormaps.colors(COLORMAP).items()):
        lookup.setdefault((r << 16) | (g << 8) | b, index)
    return lookup


def compare(image: np.ndarray, want: tuple[np.ndarray, np.ndarray], ramp: dict[int, int]) -> dict:
    """How a decoded RGBA tile agrees with the cells: mask share, index steps."""
    valid, index = want
    if image.shape[0] != 4:
        return {"passed": False, "reason": f"{image.shape[0]} bands, expected RGBA"}
    shown = image[3] > 0
    mask_agreement = float((shown == valid).mean())
    keys = (image[0].astype(np.int64) << 16) | (image[1].astype(np.int64) << 8) | image[2]
    got = np.vectorize(lambda k: ramp.get(int(k), -999))(keys[shown & valid])
    steps = np.abs(got - index[shown & valid])
    within = float((steps <= INDEX_STEPS).mean()) if steps.size else 0.0
    passed = mask_agreement >= MASK_AGREEMENT and within >= INDEX_SHARE
    return {
        "passed": passed,
        "mask_agreement": round(mask_agreement, 4),
        "index_within_5": round(within, 4),
        "index_exact": round(float((steps == 0).mean()), 4) if steps.size else 0.0,
        "valid_pixels": int(valid.sum()),
    }


def check(
    port: int, paths: dict[Tile, str], cog: Path, decoded: list[Tile]
) -> tuple[dict[str, Any], dict[Tile, np.ndarray]]:
    """Every distinct tile 200 + 256 x 256 PNG; the `decoded` ones compared with the cells.
    Returns the check and the decoded images (for the peer comparison)."""
    client = Client(port, timeout=60)
    ramp = _ramp_lookup()
    failures: list[str] = []
    images: dict[Tile, np.ndarray] = {}
    compared: dict[str, Any] = {}
    try:
        for tile, path in paths.items():
            status, body = client.get(path)
            if status != 200:
                failures.append(f"{tile}: HTTP {status} {body[:120]!r}")
                continue
            try:
                image = decode_png(body)
            except (ValueError, OSError) as exc:
                failures.append(f"{tile}: {exc}")
                continue
            if image.shape[1:] != (TILE, TILE):
                failures.append(f"{tile}: {image.shape[2]} x {image.shape[1]} pixels")
            elif tile in decoded:
                images[tile] = image
                result = compare(image, expected(cog, tile), ramp)
                compared["/".join(map(str, tile))] = result
                if not result["passed"]:
                    failures.append(f"{tile}: differs from the cells {result}")
    finally:
        client.close()
    out = {
        "passed": not failures,
        "distinct_tiles": len(paths),
        "decoded": compared,
        "failures": failures[:10],
    }
    return out, images


def same_pixels(ours: dict[Tile, np.ndarray], theirs: dict[Tile, np.ndarray]) -> dict[str, Any]:
    """Share of identical RGBA pixels and of identical transparency, tile by tile."""
    shares, masks = [], []
    for tile, image in ours.items():
        other = theirs.get(tile)
        if other is None or other.shape != image.shape:
            continue
        shares.append(float((image == other).all(axis=0).mean()))
        masks.append(float(((image[3] > 0) == (other[3] > 0)).mean()))
    if not shares:
        return {"tiles": 0}
    return {
        "tiles": len(shares),
        "identical_pixels_min": round(min(shares), 4),
        "identical_mask_min": round(min(masks), 4),
    }


def timed(
    port: int, paths: list[str], name: str, folder: Path, wrk: str | None, load: dict[str, Any]
) -> LoadResult:
    """One bounded load run over `paths` (wrk cycling the list, else the Python loop)."""
    paths_file = folder / "paths" / f"{name}.txt"
    paths_file.parent.mkdir(parents=True, exist_ok=True)
    paths_file.write_text("\n".join(paths) + "\n")
    if wrk:
        return run_wrk(
            wrk,
            port,
            paths_file,
            duration=load["duration"],
            threads=load["threads"],
            connections=load["connections"],
        )
    return run_python(port, paths, duration=load["duration"], connections=load["connections"])


def check_zoom(
    port: int, tiles: list[Tile], path_of: Callable[[Tile], str], cog: Path
) -> tuple[dict[str, Any], dict[Tile, np.ndarray]]:
    """One server, one zoom: every distinct tile checked (a wrong answer is FAILED and is
    not timed); the decoded images are kept for the comparison between servers."""
    distinct = {t: path_of(t) for t in dict.fromkeys(tiles)}
    verdict, images = check(port, distinct, cog, list(distinct)[:DECODED_PER_ZOOM])
    entry: dict[str, Any] = {"check": verdict, "paths": len(tiles), "status": "ok"}
    if not verdict["passed"]:
        entry.update(status="FAILED", reason="; ".join(verdict["failures"][:3]))
    return entry, images


def time_round(
    entry: dict[str, Any],
    port: int,
    paths: list[str],
    name: str,
    folder: Path,
    wrk: str | None,
    load: dict[str, Any],
) -> None:
    """One timed round into `entry["rounds"]`; the entry's numbers are its best round's
    (other work on the machine only ever slows a round down)."""
    result = timed(port, paths, name, folder, wrk, load).as_dict()
    entry.setdefault("rounds", []).append(result)
    if result["status_errors"] or result["socket_errors"]:
        entry.update(status="FAILED", reason="errors during a timed run")
        return
    best = max(entry["rounds"], key=lambda r: r["rps"])
    entry.update({k: best[k] for k in ("rps", "p50_ms", "p99_ms", "mean_ms", "requests")})
    if best.get("bytes") and best["requests"]:  # wrk counts bytes (headers included)
        entry["kb_per_response"] = round(best["bytes"] / best["requests"] / 1000, 1)
