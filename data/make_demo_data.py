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
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, Polygon, mapping

SEED = 971_06  # UAE country code + Sharjah area code; any fixed int works.
OUT_DIR = Path(__file__).resolve().parent
GRID = 1e-6  # 6 decimal places in degrees (~0.1 m)
NOTE = "SYNTHETIC demo data for gis-service - not real Sharjah data."

# Main city box (lon_min, lat_min, lon_max, lat_max), also the raster extent.
CITY_BOX = (55.35, 25.15, 55.75, 25.45)
RASTER_RES = 0.001  # degrees -> 400 x 300 pixels
CITY_CORE = (55.39, 25.34)  # old town (Al Qasimia / Rolla), densest area

# Rough Gulf coastline (SW -> NE); the sea lies to the north-west of it.
COASTLINE = [
    (55.330, 25.262),
    (55.360, 25.300),
    (55.378, 25.322),
    (55.392, 25.342),
    (55.410, 25.362),
    (55.430, 25.382),
    (55.450, 25.400),
    (55.480, 25.420),
    (55.510, 25.438),
    (55.545, 25.462),
]
# Land boundary of the synthetic city, continuing from COASTLINE[1:7].
INLAND_BORDER = [
    (55.470, 25.396),
    (55.520, 25.382),
    (55.600, 25.370),
    (55.680, 25.350),
    (55.730, 25.310),
    (55.735, 25.220),
    (55.680, 25.170),
    (55.550, 25.160),
    (55.450, 25.170),
    (55.400, 25.205),
    (55.372, 25.250),
    (55.362, 25.280),
]

N_CITY_DISTRICTS = 97
N_FACILITIES = 5000
N_OMNI_SITES = 180
N_SECTOR_SITES = 40  # three 120-degree sectors each -> 120 polygons

# Outlying towns (east-coast enclaves and the central plain).
TOWNS: list[dict[str, Any]] = [
    {
        "name_en": "Khor Fakkan",
        "name_ar": "خورفكان",
        "population": 41_250,
        "facilities": 180,
        "sites": 8,
        "ring": [
            (56.315, 25.315),
            (56.352, 25.315),
            (56.358, 25.335),
            (56.355, 25.360),
            (56.335, 25.370),
            (56.315, 25.355),
        ],
    },
    {
        "name_en": "Kalba",
        "name_ar": "كلباء",
        "population": 49_800,
        "facilities": 140,
        "sites": 7,
        "ring": [
            (56.325, 25.040),
            (56.362, 25.040),
            (56.364, 25.070),
            (56.360, 25.100),
            (56.335, 25.100),
            (56.322, 25.075),
        ],
    },
    {
        "name_en": "Al Dhaid",
        "name_ar": "الذيد",
        "population": 31_600,
        "facilities": 110,
        "sites": 5,
        "ring": [
            (55.855, 25.270),
            (55.905, 25.270),
            (55.915, 25.295),
            (55.895, 25.315),
            (55.860, 25.310),
            (55.850, 25.290),
        ],
    },
]

DISTRICT_NAMES: list[tuple[str, str]] = [
    ("Al Qasimia", "القاسمية"),
    ("Al Rolla", "الرولة"),
    ("Al Majaz", "المجاز"),
    ("Al Khan", "الخان"),
    ("Al Nahda", "النهدة"),
    ("Al Taawun", "التعاون"),
    ("Abu Shagara", "أبو شغارة"),
    ("Al Mujarrah", "المجرة"),
    ("Al Gharb", "الغرب"),
    ("Al Shuwaihean", "الشويهين"),
    ("Al Heera", "الحيرة"),
    ("Al Layyeh", "اللية"),
    ("Al Jubail", "الجبيل"),
    ("Al Musalla", "المصلى"),
    ("Al Soor", "السور"),
    ("Al Fisht", "الفشت"),
    ("Al Mareija", "المريجة"),
    ("Al Ghuwair", "الغوير"),
    ("Al Qadisiya", "القادسية"),
    ("Al Nasserya", "الناصرية"),
    ("Al Sharq", "الشرق"),
    ("Al Azra", "العزرة"),
    ("Al Nabba", "النباعة"),
    ("Al Qulay'ah", "القليعة"),
    ("Al Ramla", "الرملة"),
    ("Al Mahatta", "المحطة"),
    ("Al Ghubaiba", "الغبيبة"),
    ("Al Sharqan", "الشرقان"),
    ("Dasman", "دسمان"),
    ("Al Nekhailat", "النخيلات"),
    ("Al Fayha", "الفيحاء"),
    ("Al Qarain", "القرائن"),
    ("Al Yarmook", "اليرموك"),
    ("Al Falaj", "الفلج"),
    ("Al Ramtha", "الرمثاء"),
    ("Al Rifaah", "الرفاعة"),
    ("Al Khezamia", "الخزامية"),
    ("Al Riqa", "الرقة"),
    ("Al Jazzat", "الجزات"),
    ("Al Sabkha", "السبخة"),
    ("Al Manakh", "المناخ"),
    ("Al Mirgab", "المرقاب"),
    ("Al Ghafeya", "الغافية"),
    ("Al Hazannah", "الحزانة"),
    ("Al Nouf", "النوف"),
    ("Al Darari", "الدراري"),
    ("Al Tala'a", "الطلاع"),
    ("Al Butina", "البطينة"),
    ("Al Mansoura", "المنصورة"),
    ("Maysaloon", "ميسلون"),
    ("Al Ramaqiya", "الرماقية"),
    ("Halwan", "حلوان"),
    ("Al Hoshi", "الحوشي"),
    ("Samnan", "سمنان"),
    ("Al Mutawaa", "المطوع"),
    ("Al Juraina", "الجرينة"),
    ("Al Tayy", "الطي"),
    ("Al Badie", "البديع"),
    ("Al Khaledia", "الخالدية"),
    ("Al Goaz", "القوز"),
    ("Al Zahra", "الزهراء"),
    ("Al Shahba", "الشهباء"),
    ("Muwaileh", "مويلح"),
    ("Muwaileh Commercial", "مويلح التجارية"),
    ("University City", "المدينة الجامعية"),
    ("Al Rahmaniya", "الرحمانية"),
    ("Al Suyoh", "السيوح"),
    ("Al Mughaidir", "المغيدر"),
    ("Wasit", "واسط"),
    ("Al Saja'a", "الصجعة"),
] + [(f"Industrial Area {i}", f"المنطقة الصناعية {i}") for i in range(1, 19)]

# category -> weight, capacity range (unit in README), step, English noun,
# Arabic noun, word list (en, ar), share of names built from the district.
CATEGORIES: dict[str, dict[str, Any]] = {
    "mosque": {
        "weight": 0.30,
        "cap": (100, 5000),
        "step": 50,
        "en": "Mosque",
        "ar": "مسجد",
        "district_share": 0.25,
        "words": [
            ("Al Rahman", "الرحمن"),
            ("Al Taqwa", "التقوى"),
            ("Al Iman", "الإيمان"),
            ("Al Salam", "السلام"),
            ("Al Noor", "النور"),
            ("Al Huda", "الهدى"),
            ("Bilal bin Rabah", "بلال بن رباح"),
            ("Abu Bakr Al Siddiq", "أبو بكر الصديق"),
            ("Omar bin Al Khattab", "عمر بن الخطاب"),
            ("Othman bin Affan", "عثمان بن عفان"),
            ("Ali bin Abi Talib", "علي بن أبي طالب"),
            ("Al Farooq", "الفاروق"),
            ("Al Rahma", "الرحمة"),
            ("Al Tawheed", "التوحيد"),
            ("Al Ihsan", "الإحسان"),
        ],
    },
    "school": {
        "weight": 0.22,
        "cap": (200, 2500),
        "step": 10,
        "en": "School",
        "ar": "مدرسة",
        "district_share": 0.2,
        "words": [
            ("Al Noor", "النور"),
            ("Al Amal", "الأمل"),
            ("Al Ibtikar", "الابتكار"),
            ("Al Falah", "الفلاح"),
            ("Al Rayan", "الريان"),
            ("Al Ma'arifa", "المعرفة"),
            ("Al Qalam", "القلم"),
            ("Al Huda", "الهدى"),
            ("Al Ittihad", "الاتحاد"),
            ("Al Mustaqbal", "المستقبل"),
            ("Khalid bin Al Waleed", "خالد بن الوليد"),
            ("Aisha", "عائشة"),
        ],
    },
    "park": {
        "weight": 0.14,
        "cap": (100, 10000),
        "step": 50,
        "en": "Park",
        "ar": "حديقة",
        "district_share": 0.4,
        "words": [
            ("Al Nakheel", "النخيل"),
            ("Al Zuhoor", "الزهور"),
            ("Al Rabee", "الربيع"),
            ("Family", "العائلة"),
            ("Al Buhaira", "البحيرة"),
            ("Al Jazeera", "الجزيرة"),
        ],
    },
    "clinic": {
        "weight": 0.12,
        "cap": (40, 400),
        "step": 5,
        "en": "Clinic",
        "ar": "عيادة",
        "district_share": 0.5,
        "words": [
            ("Al Shifa", "الشفاء"),
            ("Al Rahma", "الرحمة"),
            ("Al Salama", "السلامة"),
            ("Al Afiya", "العافية"),
            ("Al Hayat", "الحياة"),
            ("Family", "الأسرة"),
        ],
    },
    "government_office": {
        "weight": 0.10,
        "cap": (10, 400),
        "step": 5,
        "en": "Service Centre",
        "ar": "مركز خدمة",
        "district_share": 0.5,
        "words": [
            ("Municipality", "البلدية"),
            ("Customer Happiness", "إسعاد المتعاملين"),
            ("Economic Development", "التنمية الاقتصادية"),
            ("Social Services", "الخدمات الاجتماعية"),
        ],
    },
    "police": {
        "weight": 0.06,
        "cap": (20, 250),
        "step": 5,
        "en": "Police Station",
        "ar": "مركز شرطة",
        "district_share": 1.0,
        "words": [],
    },
    "fire_station": {
        "weight": 0.04,
        "cap": (10, 80),
        "step": 1,
        "en": "Fire Station",
        "ar": "محطة إطفاء",
        "district_share": 1.0,
        "words": [],
    },
    "hospital": {
        "weight": 0.02,
        "cap": (50, 700),
        "step": 10,
        "en": "Hospital",
        "ar": "مستشفى",
        "district_share": 0.3,
        "words": [
            ("Al Zahra", "الزهراء"),
            ("Al Amal", "الأمل"),
            ("Al Salam", "السلام"),
            ("Al Noor", "النور"),
            ("Al Hayat", "الحياة"),
        ],
    },
}

ENTITIES: dict[str, tuple[str, ...]] = {
    "school": ("spea",),
    "clinic": ("sha",),
    "hospital": ("sha",),
    "police": ("shjpolice",),
    "fire_station": ("civil_defence",),
    "mosque": ("islamic_affairs",),
    "park": ("municipality",),
    "government_office": ("shjgov", "municipality"),
}

# Names that often break encoders: (category, name_en, name_ar); "{d}" and
# "{da}" are replaced by the facility's district (English / Arabic).
TRICKY_NAMES: list[tuple[str, str, str]] = [
    ("clinic", "Al Shifa Clinic, {d} Branch", "عيادة الشفاء، فرع {da}"),
    ("government_office", "Housing & Lands Service Centre", "مركز خدمة الإسكان والأراضي"),
    ("park", 'Al Rabee "Spring" Park', 'حديقة "الربيع"'),
    ("park", "Waterfront Café & Family Park", "حديقة العائلة ومقهى الواجهة المائية"),
    ("school", "Lycée Français, École Primaire", "المدرسة الفرنسية الابتدائية"),
    ("school", "Al Ma'arifa Girls' School", "مدرسة المعرفة للبنات"),
    ("mosque", "Al Rahma Mosque", "مَسْجِدُ الرَّحْمَةِ"),
    ("mosque", "Al Noor Grand Mosque", "جَامِعُ النُّورِ الكَبِيرِ"),
    ("school", "Al Amal School", "مَدْرَسَةُ الْأَمَلِ"),
]

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32640", always_xy=True)
TO_WGS84 = Transformer.from_crs("EPSG:32640", "EPSG:4326", always_xy=True)


def rng_for(stream: int) -> np.random.Generator:
    """Give each layer its own seeded stream so editing one keeps the others."""
    return np.random.default_rng([SEED, stream])


def round_geom(geom: shapely.Geometry) -> shapely.Geometry:
    """Snap to the 1e-6 grid and round, refusing geometries that turn invalid."""
    snapped = shapely.set_precision(geom, GRID)
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, 6))
    rounded = shapely.orient_polygons(rounded)  # RFC 7946: CCW exterior rings
    if not shapely.is_valid(rounded) or rounded.is_empty:
        raise ValueError(f"invalid after rounding: {shapely.is_valid_reason(rounded)}")
    return rounded


def to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    """Project an EPSG:32640 geometry to lon/lat."""

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, project)


def city_outline() -> Polygon:
    """Land outline of the synthetic city: coast segment plus inland border."""
    return Polygon(COASTLINE[1:7] + INLAND_BORDER)


def sea_polygon() -> Polygon:
    """Water north-west of the coastline, used as raster nodata mask."""
    return Polygon([*COASTLINE, (55.545, 25.60), (55.20, 25.60), (55.20, 25.262)])


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


def points_in(rng: np.random.Generator, geom: shapely.Geometry, n: int) -> np.ndarray:
    """n uniform points strictly inside geom, tested after rounding to 6 dp."""
    x0, y0, x1, y1 = geom.bounds
    found = np.empty((0, 2))
    while len(found) < n:
        cand = np.round(rng.uniform((x0, y0), (x1, y1), size=(4 * n + 16, 2)), 6)
        found = np.vstack([found, cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]])
    return found[:n]


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


def sector(cx: float, cy: float, radius: float, azimuth: float) -> Polygon:
    """120-degree antenna sector (centre + 31 arc points) in metres."""
    angles = np.radians(azimuth + np.linspace(-60.0, 60.0, 31))
    arc = list(zip(cx + radius * np.sin(angles), cy + radius * np.cos(angles), strict=True))
    return Polygon([(cx, cy), *arc])


def signal_at(distance_km: np.ndarray | float, offset_db: float) -> np.ndarray | float:
    """Simple log-distance path-loss model (dBm) shared by polygons and raster."""
    return -50.0 - 32.0 * np.log10(np.maximum(distance_km, 0.05) / 0.1) + offset_db


def site_centres(rng: np.random.Generator) -> list[tuple[float, float]]:
    """Site locations (lon/lat): mostly the city, a few in each town."""
    n_city = N_OMNI_SITES + N_SECTOR_SITES - sum(t["sites"] for t in TOWNS)
    pts = [tuple(p) for p in points_in(rng, city_outline(), n_city)]
    for t in TOWNS:
        pts += [tuple(p) for p in points_in(rng, Polygon(t["ring"]), t["sites"])]
    order = rng.permutation(len(pts))  # mix towns in so sector sites land anywhere
    return [pts[i] for i in order]


def build_coverage() -> tuple[list[dict[str, Any]], list[tuple[float, float, float]]]:
    """Coverage polygons built in UTM 40N; also returns (x, y, offset) per site."""
    rng = rng_for(3)
    base = np.datetime64("2025-01-01T00:00")
    features: list[dict[str, Any]] = []
    sites: list[tuple[float, float, float]] = []
    counters: Counter[str] = Counter()
    for n, (lon, lat) in enumerate(site_centres(rng)):
        cx, cy = TO_UTM.transform(lon, lat)
        operator = "etisalat" if rng.random() < 0.55 else "du"
        technology = "5G" if rng.random() < 0.35 else "4G"
        counters[operator] += 1
        site_id = f"{'ETS' if operator == 'etisalat' else 'DU'}-SHJ-{counters[operator]:04d}"
        offset = float(rng.uniform(-4.0, 4.0))
        sites.append((cx, cy, offset))
        r_lo, r_hi = (1000.0, 2500.0) if technology == "5G" else (2000.0, 5000.0)
        if n < N_OMNI_SITES:
            radius = float(rng.uniform(r_lo, r_hi))
            shapes = [(Point(cx, cy).buffer(radius, quad_segs=8), radius)]
        else:
            first = rng.uniform(0.0, 120.0)
            radii = [float(rng.uniform(r_lo, r_hi)) for _ in range(3)]
            shapes = [(sector(cx, cy, r, first + 120.0 * k), r) for k, r in enumerate(radii)]
        for shape, radius in shapes:
            level = signal_at(0.6 * radius / 1000.0, offset) + rng.normal(0.0, 3.0)
            minutes = int(rng.integers(0, 180 * 24 * 60 // 15)) * 15
            features.append(
                feature(
                    len(features) + 1,
                    round_geom(to_wgs84(shape)),
                    {
                        "operator": operator,
                        "technology": technology,
                        "signal_dbm": int(np.clip(round(level), -120, -60)),
                        "site_id": site_id,
                        "updated": f"{base + np.timedelta64(minutes, 'm')}:00Z",
                    },
                )
            )
    return features, sites


def signal_grid(sites: list[tuple[float, float, float]]) -> np.ndarray:
    """Power-summed signal (dBm) of all sites over the city box; sea is nodata."""
    x0, y0, x1, y1 = CITY_BOX
    width, height = round((x1 - x0) / RASTER_RES), round((y1 - y0) / RASTER_RES)
    lon = x0 + (np.arange(width) + 0.5) * RASTER_RES
    lat = y1 - (np.arange(height) + 0.5) * RASTER_RES
    lon2d, lat2d = np.meshgrid(lon, lat)
    ux, uy = TO_UTM.transform(lon2d, lat2d)
    power_mw = np.zeros_like(ux)
    for sx, sy, offset in sites:
        dist_km = np.hypot(ux - sx, uy - sy) / 1000.0
        power_mw += 10.0 ** (signal_at(dist_km, offset) / 10.0)
    dbm = np.clip(np.round(10.0 * np.log10(power_mw), 1), -120.0, -50.0)
    dbm[shapely.contains_xy(sea_polygon(), lon2d, lat2d)] = -9999.0
    return dbm.astype(np.float32)


def write_geotiff(path: Path, data: np.ndarray) -> None:
    """Tiled, DEFLATE-compressed single-band GeoTIFF in EPSG:4326."""
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": data.shape[1],
        "height": data.shape[0],
        "crs": "EPSG:4326",
        "transform": from_origin(CITY_BOX[0], CITY_BOX[3], RASTER_RES, RASTER_RES),
        "nodata": -9999.0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, "signal_dbm")
        dst.units = ("dBm",)
        dst.update_tags(SYNTHETIC="true", DESCRIPTION=NOTE)


def feature(fid: int, geom: shapely.Geometry, props: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON Feature with a numeric id (1..N)."""
    return {"type": "Feature", "id": fid, "geometry": mapping(geom), "properties": props}


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
