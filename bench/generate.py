"""Seeded SYNTHETIC facility points over Sharjah, written fast as a GeoPackage for benchmarks.

Every value is random (numpy default_rng, fixed seed); nothing here is real government
data. Points come from their own random stream, so the harness can recompute the exact
coordinates from (count, seed) to check query answers without reading the file back.

    python bench/generate.py --count 1000000 --out bench/work/facilities.gpkg --seed 971
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

DEFAULT_COUNT = 1_000_000
DEFAULT_SEED = 971
GENERATOR_VERSION = 1  # bump when the output changes, so cached files are not reused
LAYER = "facilities"

AREA = (55.3, 24.9, 56.4, 25.6)  # lon/lat box of the whole data area
CITY = (55.35, 25.15, 55.75, 25.45)  # Sharjah city: most points fall here
CORE = (55.42, 25.33)  # old town, densest
CORE_SD = 0.04  # degrees
SHARES = (0.25, 0.45, 0.30)  # whole area uniform, city uniform, gaussian around the core

# (category, weight, English noun, Arabic noun, min capacity, max capacity, entities)
CATEGORIES: list[tuple[str, float, str, str, int, int, tuple[str, ...]]] = [
    ("mosque", 0.30, "Mosque", "مسجد", 100, 5000, ("islamic_affairs",)),
    ("school", 0.22, "School", "مدرسة", 200, 2500, ("spea",)),
    ("park", 0.14, "Park", "حديقة", 100, 10000, ("municipality",)),
    ("clinic", 0.12, "Clinic", "عيادة", 40, 400, ("sha",)),
    ("government_office", 0.10, "Service Centre", "مركز خدمة", 10, 400, ("shjgov", "municipality")),
    ("police", 0.06, "Police Station", "مركز شرطة", 20, 250, ("shjpolice",)),
    ("fire_station", 0.04, "Fire Station", "محطة إطفاء", 10, 80, ("civil_defence",)),
    ("hospital", 0.02, "Hospital", "مستشفى", 50, 700, ("sha",)),
]
WORDS: list[tuple[str, str]] = [
    ("Al Noor", "النور"),
    ("Al Rahma", "الرحمة"),
    ("Al Salam", "السلام"),
    ("Al Amal", "الأمل"),
    ("Al Huda", "الهدى"),
    ("Al Nakheel", "النخيل"),
    ("Al Zuhoor", "الزهور"),
    ("Al Ma'arifa", "المعرفة"),
    ("Al Mustaqbal", "المستقبل"),
    ("Al Hayat", "الحياة"),
    ("Al Qasimia", "القاسمية"),
    ("Al Majaz", "المجاز"),
]
OPENED_FIRST = np.datetime64("1975-01-01")
OPENED_LAST = np.datetime64("2025-06-30")


def default_path(work: Path, count: int, seed: int) -> Path:
    """Cache file name that changes with everything that changes its content."""
    return work / f"facilities-n{count}-s{seed}-v{GENERATOR_VERSION}.gpkg"


def sample_points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat (rounded to 1e-6 deg, ~0.1 m) of feature ids 1..count, in id order."""
    rng = np.random.default_rng([seed, 0])
    part = rng.choice(3, size=count, p=SHARES)
    lon = np.empty(count)
    lat = np.empty(count)
    for k, (x0, y0, x1, y1) in enumerate((AREA, CITY)):
        mask = part == k
        n = int(mask.sum())
        lon[mask] = rng.uniform(x0, x1, n)
        lat[mask] = rng.uniform(y0, y1, n)
    mask = part == 2
    n = int(mask.sum())
    lon[mask] = np.clip(rng.normal(CORE[0], CORE_SD, n), CITY[0], CITY[2])
    lat[mask] = np.clip(rng.normal(CORE[1], CORE_SD, n), CITY[1], CITY[3])
    return np.round(lon, 6), np.round(lat, 6)


def _joined(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, " ")


def attributes(count: int, seed: int) -> pa.Table:
    """The properties, built column-wise with Arrow kernels (no per-row Python)."""
    rng = np.random.default_rng([seed, 1])
    weights = np.array([c[1] for c in CATEGORIES])
    cat = rng.choice(len(CATEGORIES), size=count, p=weights / weights.sum())
    word = pa.array(rng.integers(0, len(WORDS), count))
    cat_idx = pa.array(cat)
    number = pa.array(np.arange(1, count + 1)).cast(pa.string())
    name_en = _joined(
        pc.take(pa.array([w[0] for w in WORDS]), word),
        pc.take(pa.array([c[2] for c in CATEGORIES]), cat_idx),
        number,
    )
    name_ar = _joined(
        pc.take(pa.array([c[3] for c in CATEGORIES]), cat_idx),
        pc.take(pa.array([w[1] for w in WORDS]), word),
        number,
    )
    low = np.array([c[4] for c in CATEGORIES])[cat]
    high = np.array([c[5] for c in CATEGORIES])[cat]
    capacity = rng.integers(low, high + 1)
    span = int((OPENED_LAST - OPENED_FIRST).astype(int))
    days = OPENED_FIRST.astype("datetime64[D]").astype(np.int64) + rng.integers(0, span + 1, count)
    entity_names = sorted({e for c in CATEGORIES for e in c[6]})
    choice = rng.integers(0, 2, count)
    entity = np.array(
        [[entity_names.index(c[6][i % len(c[6])]) for i in range(2)] for c in CATEGORIES]
    )[cat, choice]
    return pa.table(
        {
            "name_en": name_en,
            "name_ar": name_ar,
            "category": pc.take(pa.array([c[0] for c in CATEGORIES]), cat_idx),
            "capacity": pa.array(capacity, pa.int32()),
            "opened": pa.array(days.astype(np.int32), pa.date32()),
            "entity": pc.take(pa.array(entity_names), pa.array(entity)),
        }
    )


def generate(out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Path:
    """Write `count` points to `out` (GeoPackage, layer "facilities"); atomic via rename."""
    lon, lat = sample_points(count, seed)
    table = attributes(count, seed)
    wkb = shapely.to_wkb(shapely.points(lon, lat), flavor="iso")
    table = table.append_column("geometry", pa.array(wkb, pa.binary()))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial.gpkg")  # concurrent runs
    tmp.unlink(missing_ok=True)
    pyogrio.write_arrow(
        table,
        tmp,
        layer=LAYER,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    tmp.replace(out)
    return out


SUBSET_COUNT = 100_000
COVERAGE_COUNT = 50_000
DISTRICT_COUNT = 300
OPERATORS = ("etisalat", "du", "virgin_mobile", "govnet")
TECHNOLOGIES = ("3G", "4G", "5G")


def extra_paths(work: Path, count: int, seed: int) -> dict[str, Path]:
    """The other benchmark layers, cached beside the points under names that say their size."""
    sizes = extra_sizes(count)
    return {
        name: work / f"{name}-n{n}-from{count}-s{seed}-v{GENERATOR_VERSION}.gpkg"
        for name, n in sizes.items()
    }


def extra_sizes(count: int) -> dict[str, int]:
    """100k subset and 50k coverage areas at 1M points; proportionally fewer for small runs."""
    return {
        "facilities_subset": min(SUBSET_COUNT, count // 10),
        "coverage": min(COVERAGE_COUNT, count // 20),
        "districts": DISTRICT_COUNT,
    }


def _write(table: pa.Table, out: Path, layer: str, geometry_type: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial.gpkg")
    tmp.unlink(missing_ok=True)
    pyogrio.write_arrow(
        table,
        tmp,
        layer=layer,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs="EPSG:4326",
    )
    tmp.replace(out)
    return out


def subset(out: Path, count: int, seed: int, n: int) -> Path:
    """Ids 1..n of the points, same coordinates and properties: a smaller layer of the same kind."""
    lon, lat = sample_points(count, seed)
    table = attributes(count, seed).slice(0, n)
    wkb = shapely.to_wkb(shapely.points(lon[:n], lat[:n]), flavor="iso")
    return _write(table.append_column("geometry", pa.array(wkb)), out, "facilities_subset", "Point")


def coverage(out: Path, n: int, seed: int) -> Path:
    """`n` network coverage areas: 32-vertex circles 0.3-3 km across, centred like the points."""
    rng = np.random.default_rng([seed, 3])
    lon, lat = sample_points(n, seed + 1)
    radius_km = rng.uniform(0.15, 1.5, n)
    dlat = radius_km / 111.32
    angles = np.linspace(0, 2 * np.pi, 33)[:32]
    ring_x = lon[:, None] + np.cos(angles)[None, :] * (dlat / np.cos(np.radians(lat)))[:, None]
    ring_y = lat[:, None] + np.sin(angles)[None, :] * dlat[:, None]
    coords = np.round(np.stack([ring_x, ring_y], axis=-1), 6)
    coords = np.concatenate([coords, coords[:, :1]], axis=1)  # closed rings, 33 positions
    polygons = shapely.polygons(coords)
    table = pa.table(
        {
            "operator": pa.array(np.array(OPERATORS)[rng.integers(0, len(OPERATORS), n)]),
            "technology": pa.array(np.array(TECHNOLOGIES)[rng.integers(0, len(TECHNOLOGIES), n)]),
            "signal": pa.array(rng.integers(-115, -50, n), pa.int32()),
            "geometry": pa.array(shapely.to_wkb(polygons, flavor="iso")),
        }
    )
    return _write(table, out, "coverage", "Polygon")


def districts(out: Path, n: int, seed: int) -> Path:
    """`n` districts tiling the area: Voronoi cells of random seeds, clipped to the area."""
    rng = np.random.default_rng([seed, 4])
    seeds = shapely.points(rng.uniform(AREA[0], AREA[2], n), rng.uniform(AREA[1], AREA[3], n))
    area = shapely.box(*AREA)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=area))
    order = [int(np.flatnonzero(shapely.contains(cells, s))[0]) for s in seeds]
    cells = shapely.set_precision(shapely.intersection(cells[order], area), 1e-6)
    names = [f"District {i}" for i in range(1, n + 1)]
    table = pa.table(
        {
            "name_en": pa.array(names),
            "name_ar": pa.array([f"منطقة {i}" for i in range(1, n + 1)]),
            "population": pa.array(rng.integers(2_000, 120_000, n), pa.int32()),
            "geometry": pa.array(shapely.to_wkb(cells, flavor="iso")),
        }
    )
    return _write(table, out, "districts", "Polygon")


def generate_extras(work: Path, count: int, seed: int) -> dict[str, Path]:
    """Subset, coverage and districts, each generated only when its cache file is missing."""
    paths = extra_paths(work, count, seed)
    sizes = extra_sizes(count)
    makers = {
        "facilities_subset": lambda p: subset(p, count, seed, sizes["facilities_subset"]),
        "coverage": lambda p: coverage(p, sizes["coverage"], seed),
        "districts": lambda p: districts(p, sizes["districts"], seed),
    }
    for name, path in paths.items():
        if not path.exists():
            makers[name](path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=None, help="default: bench/work/...gpkg")
    args = parser.parse_args(argv)
    out = args.out or default_path(Path(__file__).resolve().parent / "work", args.count, args.seed)
    started = time.perf_counter()
    generate(out, args.count, args.seed)
    print(f"{args.count} points -> {out} in {time.perf_counter() - started:.1f} s")
    for name, path in generate_extras(out.parent, args.count, args.seed).items():
        print(f"{name} -> {path}")


if __name__ == "__main__":
    main()
