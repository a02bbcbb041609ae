"""Generate the SYNTHETIC Sharjah (UAE) demo data set for gis-service.

Every record written here is made up. Place names are borrowed from real
Sharjah districts so the demo feels familiar, but all geometries, facility
names, capacities, populations, network sites and signal values are random
(fixed seed) and MUST NOT be used as real government data.

Why a script instead of committed blobs only: the data can be reviewed,
regenerated and changed in one place, and it is deterministic (fixed seeds,
no network, fixed output order) so re-running it yields byte-identical files.

Usage (from anywhere)::

    python data/make_demo_data.py

Outputs in ``data/``: facilities.geojson, districts.geojson,
coverage.geojson and signal_strength.tif.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from demo_geometry import (
    CITY_CORE,
    GRID,
    N_CITY_DISTRICTS,
    N_FACILITIES,
    NOTE,
    OUT_DIR,
    city_outline,
    feature,
    points_in,
    rng_for,
    round_geom,
)
from demo_network import (
    build_coverage,
    signal_grid,
    write_geotiff,
)
from demo_vocabulary import (
    CATEGORIES,
    DISTRICT_NAMES,
    ENTITIES,
    TOWNS,
    TRICKY_NAMES,
)
from shapely.geometry import Point, Polygon


def seed_points(rng: np.random.Generator, outline: Polygon, n: int) -> np.ndarray:
    """Dart-throw n well-spread seeds inside the outline (Voronoi generators)."""
    min_dist = 0.75 * math.sqrt(outline.area / n)
    x0, y0, x1, y1 = outline.bounds
    seeds: list[tuple[float, float]] = []
    for _ in range(200_000):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if not shapely.contains_xy(outline, x, y):
            continue
        if all(math.hypot(x - sx, y - sy) >= min_dist for sx, sy in seeds):
            seeds.append((x, y))
            if len(seeds) == n:
                return np.array(seeds)
    raise RuntimeError("could not place all district seeds; lower min_dist")


def district_cells(rng: np.random.Generator, outline: Polygon) -> list[shapely.Geometry]:
    """Voronoi cells clipped to the outline, sorted outward from the old town."""
    seeds = seed_points(rng, outline, N_CITY_DISTRICTS)
    order = np.argsort(np.hypot(seeds[:, 0] - CITY_CORE[0], seeds[:, 1] - CITY_CORE[1]))
    seeds = seeds[order]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline, ordered=True)
    )
    clipped = shapely.intersection(cells, outline, grid_size=GRID)
    return [round_geom(cell) for cell in clipped]


def check_tiling(cells: list[shapely.Geometry], outline: Polygon) -> None:
    """Fail loudly if the district cells overlap, leave gaps or miss the outline.

    Snap-rounding to the 1e-6 grid nudges clipped edges by < 1e-6 degrees, so
    the union is compared with the outline by Hausdorff distance, not area.
    """
    if not shapely.coverage_is_valid(np.array(cells, dtype=object), gap_width=1e-4):
        raise ValueError("district cells overlap, have gaps or misaligned edges")
    union = shapely.union_all(cells)
    if union.geom_type != "Polygon" or len(union.interiors) > 0:
        raise ValueError("district cells do not form one hole-free area")
    if shapely.hausdorff_distance(union, outline) > 5 * GRID:
        raise ValueError("district cells do not match the city outline")


def district_names(n: int) -> list[tuple[str, str]]:
    """Unique (en, ar) names; numbered repeats ("Al Khan 2") if we run out."""
    names = list(DISTRICT_NAMES)
    suffix = 2
    while len(names) < n:
        names += [(f"{en} {suffix}", f"{ar} {suffix}") for en, ar in DISTRICT_NAMES]
        suffix += 1
    return names[:n]


def city_population(
    rng: np.random.Generator, cell: shapely.Geometry, area_km2: float, name_en: str
) -> int:
    """Density falls off away from the old town; industrial areas are sparse."""
    c = cell.centroid
    dist_km = math.hypot((c.x - CITY_CORE[0]) * 100.6, (c.y - CITY_CORE[1]) * 110.8)
    density = 300 + 14_000 * math.exp(-dist_km / 7.0)
    if name_en.startswith("Industrial Area"):
        density *= 0.25
    return int(round(density * area_km2 * rng.lognormal(0.0, 0.3), -1))


def build_districts() -> gpd.GeoDataFrame:
    """City Voronoi districts plus the three outlying towns as extra districts."""
    rng = rng_for(1)
    outline = city_outline()
    cells = district_cells(rng, outline)
    check_tiling(cells, outline)
    towns = [round_geom(Polygon(t["ring"])) for t in TOWNS]
    names = district_names(len(cells)) + [(t["name_en"], t["name_ar"]) for t in TOWNS]
    gdf = gpd.GeoDataFrame(
        {"name_en": [n[0] for n in names], "name_ar": [n[1] for n in names]},
        geometry=cells + towns,
        crs="EPSG:4326",
    )
    gdf["area_km2"] = (gdf.to_crs("EPSG:32640").area / 1e6).round(3)
    city = gdf.iloc[: len(cells)]
    pops = [
        city_population(rng, g, a, n)
        for g, a, n in zip(city.geometry, city["area_km2"], city["name_en"], strict=True)
    ]
    gdf["population"] = pops + [t["population"] for t in TOWNS]
    gdf["code"] = [f"SHJ-{i:03d}" for i in range(1, len(gdf) + 1)]
    return gdf


def capacity(rng: np.random.Generator, category: str) -> int:
    """Log-uniform capacity in the category's plausible range, rounded to a step."""
    spec = CATEGORIES[category]
    lo, hi = spec["cap"]
    value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return int(min(hi, max(lo, round(value / spec["step"]) * spec["step"])))


def base_name(rng: np.random.Generator, category: str, d_en: str, d_ar: str) -> tuple[str, str]:
    """Category noun plus either the district or a themed word (unnumbered)."""
    spec = CATEGORIES[category]
    if not spec["words"] or rng.random() < spec["district_share"]:
        word_en, word_ar = d_en, d_ar
    else:
        word_en, word_ar = spec["words"][rng.integers(len(spec["words"]))]
    return f"{word_en} {spec['en']}", f"{spec['ar']} {word_ar}"


def apply_tricky_names(rng: np.random.Generator, rows: list[dict[str, Any]]) -> None:
    """Overwrite a few random names with encoder-hostile text (quotes, &, accents...)."""
    used: set[int] = set()
    for category, en, ar in TRICKY_NAMES:
        pool = [i for i, r in enumerate(rows) if r["category"] == category and i not in used]
        i = pool[int(rng.integers(len(pool)))]
        used.add(i)
        rows[i]["name_en"] = en.format(d=rows[i]["district"])
        rows[i]["name_ar"] = ar.format(da=rows[i]["_district_ar"])


def number_duplicates(rows: list[dict[str, Any]]) -> None:
    """Append " 2", " 3"... to repeated names so every name_en is unique."""
    seen: Counter[str] = Counter()
    for r in rows:
        seen[r["name_en"]] += 1
        count = seen[r["name_en"]]
        if count > 1:
            r["name_en"] += f" {count}"
            r["name_ar"] += f" {count}"
    if len({r["name_en"] for r in rows}) != len(rows):
        raise ValueError("facility names are not unique")


def facility_counts(rng: np.random.Generator, districts: gpd.GeoDataFrame) -> list[int]:
    """Towns get fixed counts; the rest is spread over city districts by population."""
    town_counts = [t["facilities"] for t in TOWNS]
    city_pop = districts["population"].to_numpy()[: -len(TOWNS)].astype(float)
    city = rng.multinomial(N_FACILITIES - sum(town_counts), city_pop / city_pop.sum())
    return [int(c) for c in city] + town_counts


def build_facilities(districts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Points sampled inside each district so `district` always matches geometry."""
    rng = rng_for(2)
    cats = list(CATEGORIES)
    weights = np.array([CATEGORIES[c]["weight"] for c in cats])
    start = np.datetime64("1975-01-01")
    span = int((np.datetime64("2025-06-30") - start).astype(int))
    rows: list[dict[str, Any]] = []
    counts = facility_counts(rng, districts)
    for district, count in zip(districts.itertuples(), counts, strict=True):
        for x, y in points_in(rng, district.geometry, count):
            category = cats[rng.choice(len(cats), p=weights / weights.sum())]
            name_en, name_ar = base_name(rng, category, district.name_en, district.name_ar)
            entities = ENTITIES[category]
            rows.append(
                {
                    "name_en": name_en,
                    "name_ar": name_ar,
                    "category": category,
                    "capacity": capacity(rng, category),
                    "opened": str(start + np.timedelta64(int(rng.integers(span + 1)), "D")),
                    "entity": entities[int(rng.integers(len(entities)))],
                    "district": district.name_en,
                    "_district_ar": district.name_ar,
                    "_xy": (float(x), float(y)),
                }
            )
    apply_tricky_names(rng, rows)
    number_duplicates(rows)
    return [
        feature(i, Point(r.pop("_xy")), {k: v for k, v in r.items() if not k.startswith("_")})
        for i, r in enumerate(rows, start=1)
    ]


def district_features(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Convert the districts frame to features with plain Python property types."""
    return [
        feature(
            i,
            row.geometry,
            {
                "name_en": row.name_en,
                "name_ar": row.name_ar,
                "population": int(row.population),
                "area_km2": float(row.area_km2),
                "code": row.code,
            },
        )
        for i, row in enumerate(gdf.itertuples(), start=1)
    ]


def dumps(obj: Any) -> str:
    """Compact, deterministic UTF-8 JSON (no \\u escapes, no NaN)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_geojson(path: Path, name: str, features: list[dict[str, Any]]) -> None:
    """RFC 7946 FeatureCollection, UTF-8, one feature per line for readable diffs."""
    head = dumps({"type": "FeatureCollection", "name": name, "description": NOTE})[:-1]
    body = ",\n".join(dumps(f) for f in features)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f'{head},"features":[\n{body}\n]}}\n')


def main() -> None:
    """Build every layer and write it next to this script."""
    districts = build_districts()
    facilities = build_facilities(districts)
    coverage, sites = build_coverage()
    layers = {
        "facilities": facilities,
        "districts": district_features(districts),
        "coverage": coverage,
    }
    for name, features in layers.items():
        path = OUT_DIR / f"{name}.geojson"
        write_geojson(path, name, features)
        print(f"{path.name}: {len(features)} features, {path.stat().st_size / 1024:.0f} KiB")
    tif = OUT_DIR / "signal_strength.tif"
    write_geotiff(tif, signal_grid(sites))
    print(f"{tif.name}: {tif.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
