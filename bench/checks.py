"""Request lists for each workload and the checks that must pass before one is timed.

A fast wrong answer is worse than a slow right one, so every workload is first checked
against the generated coordinates (recomputed from the seed, independent of the stores).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.loadgen import Client, local_path, timed_gets

KM_LAT = 1 / 111.32  # degrees of latitude per km
LIMIT = 100


class CheckFailed(Exception):
    """The service answered, but wrongly: the workload is reported FAILED, not timed."""


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Dataset:
    """Coordinates of feature ids 1..n (index i holds id i + 1)."""

    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray | None = None  # properties W3/W4 check against (see bench/queries.py)
    entity: np.ndarray | None = None
    capacity: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.lon)

    def ids_in(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Ids inside the box, edges included (bbox intersection for points)."""
        minx, miny, maxx, maxy = box
        mask = (self.lon >= minx) & (self.lon <= maxx) & (self.lat >= miny) & (self.lat <= maxy)
        return np.flatnonzero(mask) + 1


def items_path(collection: str, **params: str | int) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/collections/{collection}/items" + (f"?{query}" if query else "")


def bbox_text(box: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.6f}" for v in box)


def random_boxes(
    data: Dataset, n: int, rng: np.random.Generator, km: float = 1.0
) -> list[tuple[float, float, float, float]]:
    """~km x km boxes centred on random data points (so busy areas are hit as often as real)."""
    boxes = []
    for i in rng.integers(0, data.count, n):
        x, y = float(data.lon[i]), float(data.lat[i])
        half_lat = km * KM_LAT / 2
        half_lon = half_lat / math.cos(math.radians(y))
        box = (x - half_lon, y - half_lat, x + half_lon, y + half_lat)
        boxes.append(tuple(float(f"{v:.6f}") for v in box))  # exactly what the URL says
    return boxes


def bbox_paths(collection: str, boxes: list[tuple[float, float, float, float]]) -> list[str]:
    return [items_path(collection, bbox=bbox_text(b), limit=LIMIT) for b in boxes]


def item_paths(collection: str, ids: np.ndarray) -> list[str]:
    return [f"/collections/{collection}/items/{int(i)}" for i in ids]


def _point(feature: dict[str, Any]) -> tuple[float, float]:
    geometry = feature.get("geometry") or {}
    ensure(geometry.get("type") == "Point", f"feature {feature.get('id')}: not a Point")
    coords = geometry.get("coordinates")
    ensure(isinstance(coords, list) and len(coords) == 2, f"feature {feature.get('id')}: coords")
    return float(coords[0]), float(coords[1])


def check_collection(doc: Any, limit: int, require_count: bool = True) -> list[dict[str, Any]]:
    """A GeoJSON FeatureCollection page, consistent with its own counts (which a peer may
    leave out when `require_count` is False: both are optional in OGC API Features)."""
    ensure(isinstance(doc, dict) and doc.get("type") == "FeatureCollection", "not a collection")
    features = doc.get("features")
    ensure(isinstance(features, list), "features is not a list")
    if require_count or "numberReturned" in doc:
        ensure(doc.get("numberReturned") == len(features), "numberReturned != len(features)")
    ensure(len(features) <= limit, f"{len(features)} features for limit={limit}")
    for feature in features:
        ensure(feature.get("type") == "Feature", "a member is not a Feature")
        ensure(isinstance(feature.get("id"), int), "a feature id is not an integer")
        ensure(isinstance(feature.get("properties"), dict), "properties is not an object")
    return features


def _check_coordinates(data: Dataset, features: list[dict[str, Any]]) -> None:
    for feature in features:
        fid = feature["id"]
        ensure(1 <= fid <= data.count, f"unknown id {fid}")
        expected = (float(data.lon[fid - 1]), float(data.lat[fid - 1]))
        ensure(_point(feature) == expected, f"id {fid}: coordinates differ from the generated")


def _check_bbox_page(
    data: Dataset,
    box: tuple[float, float, float, float],
    doc: Any,
    path: str,
    require_count: bool = True,
) -> int:
    features = check_collection(doc, LIMIT, require_count)
    minx, miny, maxx, maxy = box
    for feature in features:
        x, y = _point(feature)
        ensure(minx <= x <= maxx and miny <= y <= maxy, f"{path}: {feature['id']} is outside")
    _check_coordinates(data, features)
    expected = len(data.ids_in(box))
    if "numberMatched" not in doc and not require_count:
        ensure(len(features) == min(expected, LIMIT), f"{path}: short page")
        return expected
    ensure(
        doc.get("numberMatched") == expected,
        f"{path}: numberMatched {doc.get('numberMatched')} != {expected} counted in the data",
    )
    ensure(len(features) == min(expected, LIMIT), f"{path}: short page")
    return expected


def _check_exact_ids(
    client: Client,
    collection: str,
    data: Dataset,
    box: tuple[float, float, float, float],
    require_count: bool = True,
) -> int:
    """Every matching id, fetched in one page, equals the ids counted in the data."""
    expected = data.ids_in(box)
    limit = max(len(expected), 1)
    doc = client.get_json(items_path(collection, bbox=bbox_text(box), limit=limit))
    got = sorted(f["id"] for f in check_collection(doc, limit, require_count))
    ensure(got == expected.tolist(), f"box {bbox_text(box)}: id set differs from the data")
    return len(expected)


def check_bbox_workload(
    client: Client,
    collection: str,
    data: Dataset,
    boxes: list[tuple[float, float, float, float]],
    exact: int = 5,
    require_count: bool = True,
) -> dict[str, Any]:
    """W1: every timed request checked, plus `exact` boxes compared id by id.

    A peer that leaves out the optional numberMatched passes without it (`require_count`
    False, noted in the result); one that gives it must give it right.
    """
    matched = []
    counted = 0
    for box, path in zip(boxes, bbox_paths(collection, boxes), strict=True):
        doc = client.get_json(path)
        counted += "numberMatched" in doc
        matched.append(_check_bbox_page(data, box, doc, path, require_count))
    exact_sizes = [
        _check_exact_ids(client, collection, data, b, require_count) for b in boxes[:exact]
    ]
    return {
        "passed": True,
        "requests_checked": len(boxes),
        "exact_id_sets": exact_sizes,
        "matched_mean": round(float(np.mean(matched)), 1),
        "matched_max": int(np.max(matched)),
        "with_number_matched": counted,
    }


def check_item_workload(
    client: Client, collection: str, data: Dataset, ids: np.ndarray
) -> dict[str, Any]:
    """W2: each id comes back as itself, at its generated position; one past the end is 404."""
    for fid, path in zip(ids.tolist(), item_paths(collection, ids), strict=True):
        doc = client.get_json(path)
        ensure(doc.get("type") == "Feature" and doc.get("id") == fid, f"{path}: wrong id")
        _check_coordinates(data, [doc])
    status, _ = client.get(f"/collections/{collection}/items/{data.count + 1}")
    ensure(status == 404, f"a missing id answered {status}, not 404")
    return {"passed": True, "requests_checked": len(ids)}


def check_health(client: Client) -> dict[str, Any]:
    doc = client.get_json("/health")
    ensure(doc == {"status": "ok"}, f"/health said {doc!r}")
    return {"passed": True}


def _ids_of_page(doc: Any, page: int, data: Dataset, path: str) -> None:
    features = check_collection(doc, LIMIT)
    first = (page - 1) * LIMIT + 1
    expected = list(range(first, min(first + LIMIT, data.count + 1)))
    ensure([f["id"] for f in features] == expected, f"{path}: page {page} has the wrong ids")
    ensure(doc.get("numberMatched") == data.count, f"{path}: numberMatched is not the total")
    _check_coordinates(data, features)


def walk_to_page(client: Client, collection: str, page: int, data: Dataset) -> tuple[str, float]:
    """Follow `next` links from page 1 to `page`; returns its path and the walk's seconds."""
    path = items_path(collection, limit=LIMIT)
    started = time.perf_counter()
    for number in range(1, page):
        doc = client.get_json(path)
        if number == 1:
            _ids_of_page(doc, 1, data, path)
        nxt = [link for link in doc.get("links", []) if link.get("rel") == "next"]
        ensure(len(nxt) == 1, f"page {number} has {len(nxt)} next links")
        path = local_path(nxt[0]["href"])
    seconds = time.perf_counter() - started
    _ids_of_page(client.get_json(path), page, data, path)
    return path, seconds


def deep_paging(
    client: Client, collection: str, data: Dataset, page: int, repeats: int
) -> dict[str, Any]:
    """Page 1 vs page `page`, by cursor (next links) and by offset, timed interleaved."""
    first = items_path(collection, limit=LIMIT)
    deep, walk_seconds = walk_to_page(client, collection, page, data)
    by_offset = items_path(collection, limit=LIMIT, offset=(page - 1) * LIMIT)
    _ids_of_page(client.get_json(by_offset), page, data, by_offset)
    started = time.perf_counter()
    times = timed_gets(client, [first, deep, by_offset], repeats)
    seconds = time.perf_counter() - started
    mean = {path: float(np.mean(values)) for path, values in times.items()}
    return {
        "status": "ok",
        "check": {"passed": True, "pages_walked": page - 1, "walk_seconds": round(walk_seconds, 2)},
        "page": page,
        "repeats": repeats,
        "requests": 3 * repeats,
        "rps": round(3 * repeats / seconds, 1),
        "page1_mean_ms": round(mean[first], 3),
        "deep_mean_ms": round(mean[deep], 3),
        "ratio": round(mean[deep] / mean[first], 2),
        "offset_mean_ms": round(mean[by_offset], 3),
        "offset_ratio": round(mean[by_offset] / mean[first], 2),
        "page1_p50_ms": round(float(np.median(times[first])), 3),
        "deep_p50_ms": round(float(np.median(times[deep])), 3),
        "offset_p50_ms": round(float(np.median(times[by_offset])), 3),
    }
