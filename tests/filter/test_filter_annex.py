"""The CQL2 standard's own Annex A test-data predicates, in both encodings, on both stores."""

from __future__ import annotations

import cql2
import orjson
import pytest

from ..cql2_annex import (
    ACCENTI,
    ADVANCED,
    ARITHMETIC,
    BASIC,
    BASIC_SPATIAL,
    CASEI,
    PROPERTY_PROPERTY,
    SPATIAL,
    TEMPORAL,
    cases,
    logical_cases,
)
from ..cql2_annex import expected as data_count

CASES = [
    pytest.param(c, p, n, id=f"{group}-{i}")
    for group, block in [
        ("basic", BASIC),
        ("advanced", ADVANCED),
        ("casei", CASEI),
        ("accenti", ACCENTI),
        ("basic-spatial", BASIC_SPATIAL),
        ("spatial", SPATIAL),
        ("temporal", TEMPORAL),
        ("arithmetic", ARITHMETIC),
        ("property-property", PROPERTY_PROPERTY),
    ]
    for i, (c, p, n) in enumerate((c, p, data_count(p, n)) for c, p, n in cases(block))
] + [pytest.param(c, p, n, id=f"logical-{i}") for i, (c, p, n) in enumerate(logical_cases())]


def matched(client, collection: str, **params: str) -> int:
    response = client.get(f"/collections/{collection}/items", params={"limit": "1", **params})
    assert response.status_code == 200, response.text
    return response.json()["numberMatched"]


@pytest.mark.parametrize(("collection", "predicate", "expected"), CASES)
def test_annex_text(client, collection: str, predicate: str, expected: int) -> None:
    assert matched(client, collection, filter=predicate) == expected


@pytest.mark.parametrize(("collection", "predicate", "expected"), CASES)
def test_annex_json(client, collection: str, predicate: str, expected: int) -> None:
    encoded = orjson.dumps(cql2.parse_text(predicate).to_json()).decode()
    count = matched(client, collection, filter=encoded, **{"filter-lang": "cql2-json"})
    assert count == expected
