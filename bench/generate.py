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


if __name__ == "__main__":
    main()
