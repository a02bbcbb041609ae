"""W3 (property equality) and W4 (CQL2 filter): request lists and checks (W6: bench/tiles.py).

Expected answers come from the generated arrays (recomputed from the seed), never from a
store, so the same check judges our two stores and the peer servers alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import numpy as np

from bench import generate
from bench.checks import (
    LIMIT,
    Dataset,
    bbox_text,
    check_collection,
    ensure,
    items_path,
)
from bench.checks import _check_coordinates as check_coordinates
from bench.loadgen import Client

# W3: each category with each entity that runs it, a pair that matches nothing, and one
# category alone (a large count: 12 % of the layer)
W3_PAIRS: list[tuple[str, str | None]] = [
    *[(c[0], e) for c in generate.CATEGORIES for e in sorted(set(c[6]))],
    ("hospital", "spea"),
    ("clinic", None),
]
# W4: category and a capacity threshold, combined with a ~1 km bbox
W4_FILTERS: list[tuple[str, int]] = [
    ("school", 500),
    ("mosque", 2000),
    ("park", 5000),
    ("clinic", 200),
]


def with_attributes(data: Dataset, count: int, seed: int) -> Dataset:
    """The dataset plus the properties W3/W4 filter on, as numpy arrays in id order."""
    table = generate.attributes(count, seed)
    data.category = table["category"].to_numpy(zero_copy_only=False).astype(str)
    data.entity = table["entity"].to_numpy(zero_copy_only=False).astype(str)
    data.capacity = table["capacity"].to_numpy()
    return data


def _w3_mask(data: Dataset, category: str, entity: str | None) -> np.ndarray:
    assert data.category is not None and data.entity is not None
    mask = data.category == category
    return mask & (data.entity == entity) if entity else mask


def equality_paths(collection: str) -> list[str]:
    paths = []
    for category, entity in W3_PAIRS:
        params: dict[str, str | int] = {"category": category}
        if entity:
            params["entity"] = entity
        paths.append(items_path(collection, **params, limit=LIMIT))
    return paths


def check_equality_workload(client: Client, collection: str, data: Dataset) -> dict[str, Any]:
    """W3: properties equal the request's, ids among the expected, exact numberMatched."""
    counts = []
    for (category, entity), path in zip(W3_PAIRS, equality_paths(collection), strict=True):
        doc = client.get_json(path)
        features = check_collection(doc, LIMIT)
        mask = _w3_mask(data, category, entity)
        expected = int(mask.sum())
        ensure(
            doc.get("numberMatched") == expected,
            f"{path}: numberMatched {doc.get('numberMatched')} != {expected} in the data",
        )
        ensure(len(features) == min(expected, LIMIT), f"{path}: {len(features)} features")
        for feature in features:
            props = feature["properties"]
            ensure(props.get("category") == category, f"{path}: {feature['id']} category")
            ensure(entity is None or props.get("entity") == entity, f"{path}: entity")
            ensure(mask[feature["id"] - 1], f"{path}: id {feature['id']} does not match")
        check_coordinates(data, features)
        counts.append(expected)
    return {"passed": True, "requests_checked": len(W3_PAIRS), "matched": counts}


def filter_text(category: str, capacity: int) -> str:
    return f"category='{category}' AND capacity > {capacity}"


def filter_paths(collection: str, boxes: list[tuple[float, float, float, float]]) -> list[str]:
    paths = []
    for i, box in enumerate(boxes):
        cql = filter_text(*W4_FILTERS[i % len(W4_FILTERS)])
        paths.append(
            items_path(
                collection,
                bbox=bbox_text(box),
                filter=quote(cql, safe=""),
                **{"filter-lang": "cql2-text"},
                limit=LIMIT,
            )
        )
    return paths


def check_filter_workload(
    client: Client,
    collection: str,
    data: Dataset,
    boxes: list[tuple[float, float, float, float]],
) -> dict[str, Any]:
    """W4: every answer inside its box, satisfying the filter, with the exact numberMatched."""
    assert data.category is not None and data.capacity is not None
    matched = []
    for i, (box, path) in enumerate(zip(boxes, filter_paths(collection, boxes), strict=True)):
        category, capacity = W4_FILTERS[i % len(W4_FILTERS)]
        minx, miny, maxx, maxy = box
        inside = (data.lon >= minx) & (data.lon <= maxx) & (data.lat >= miny) & (data.lat <= maxy)
        mask = inside & (data.category == category) & (data.capacity > capacity)
        expected = int(mask.sum())
        doc = client.get_json(path)
        features = check_collection(doc, LIMIT)
        ensure(
            doc.get("numberMatched") == expected,
            f"{path}: numberMatched {doc.get('numberMatched')} != {expected} in the data",
        )
        ensure(len(features) == min(expected, LIMIT), f"{path}: {len(features)} features")
        for feature in features:
            ensure(mask[feature["id"] - 1], f"{path}: id {feature['id']} does not match")
        check_coordinates(data, features)
        matched.append(expected)
    return {
        "passed": True,
        "requests_checked": len(boxes),
        "matched_mean": round(float(np.mean(matched)), 1),
        "matched_max": int(np.max(matched)),
    }
