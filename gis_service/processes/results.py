"""A process's answer: features as arrays, written as one GeoJSON FeatureCollection.

The same object becomes a saved collection (api/processes/saving.py) with the property
types it declares, so a result reads back the same way whichever way it was taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import shapely

from ..domain.collection import PropertyDef, PropertyType


@dataclass
class Result:
    geoms: np.ndarray
    columns: dict[str, list[Any]]
    properties: list[PropertyDef]
    summary: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geoms)

    def geojson(self) -> bytes:
        texts = shapely.to_geojson(self.geoms) if len(self.geoms) else []
        names = [p.name for p in self.properties]
        features = [
            {
                "type": "Feature",
                "id": i + 1,
                "geometry": orjson.Fragment(texts[i]) if texts[i] is not None else None,
                "properties": {n: self.columns[n][i] for n in names},
            }
            for i in range(len(self.geoms))
        ]
        body = {"type": "FeatureCollection", "numberReturned": len(features), **self.summary}
        body["features"] = features
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def numbers(values: np.ndarray) -> list[float | None]:
    """A float column as JSON values (NaN, from an empty group, is null)."""
    return [None if v != v else float(v) for v in values.tolist()]


def prop(name: str, kind: PropertyType) -> PropertyDef:
    return PropertyDef(name=name, type=kind)


def free(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`... when an input already has a property so named."""
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out
