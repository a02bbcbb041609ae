"""What a download holds: which properties, whether geometry, and in which CRS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely

from ..domain.collection import CollectionInfo, PropertyDef
from ..errors import InvalidParameter
from ..geojson import geometry
from ..geojson.geometry import GeometryValue
from ..store.streaming import ExportBatch


class Reprojection(Protocol):
    """A target CRS other than CRS84 (`domain.crs.ServiceCrs`)."""

    uri: str

    def from_crs84(self, geometries: np.ndarray) -> np.ndarray: ...

    def from_crs84_xy(self, geometries: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Export:
    info: CollectionInfo
    properties: tuple[PropertyDef, ...]
    geometry: bool = True
    crs: Reprojection | None = None  # None: CRS84, as stored
    #: Easting first whatever the CRS's axis order (files); False: the authority's (GeoJSON).
    xy_order: bool = True

    @classmethod
    def of(
        cls,
        info: CollectionInfo,
        names: Iterable[str] | None = None,
        *,
        geometry: bool = True,
        crs: Reprojection | None = None,
        xy_order: bool = True,
    ) -> Export:
        """The chosen properties (all when `names` is None), in the order asked for."""
        if names is None:
            return cls(info, tuple(info.properties), geometry, crs, xy_order)
        chosen = []
        for name in names:
            prop = info.prop(name)
            if prop is None:
                raise InvalidParameter("properties", f"not a property of version {info.version}")
            chosen.append(prop)
        return cls(info, tuple(chosen), geometry, crs, xy_order)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.properties]

    def values(self, batch: ExportBatch) -> list[list[Any]]:
        return [batch.columns[p.name] for p in self.properties]

    def geometries(self, batch: ExportBatch) -> np.ndarray:
        """Shapely geometries in the output CRS (None where a feature has none)."""
        geoms = shapely.from_wkb(np.array(batch.wkbs, dtype=object))
        if self.crs is None:
            return geoms
        return self.crs.from_crs84_xy(geoms) if self.xy_order else self.crs.from_crs84(geoms)

    def geojson_geometries(self, batch: ExportBatch) -> list[GeometryValue]:
        """Geometries as the pages write them (CRS84 points straight from their WKB)."""
        if self.crs is None:
            return geometry.from_wkbs(batch.wkbs)
        return geometry.from_geometries(self.geometries(batch))

    def wkbs(self, batch: ExportBatch) -> list[bytes | None]:
        """ISO WKB in the output CRS; stored WKB is passed on untouched when it can be."""
        if self.crs is None:
            return batch.wkbs
        return shapely.to_wkb(self.geometries(batch), flavor="iso").tolist()


def free_name(wanted: str, taken: Iterable[str]) -> str:
    """`wanted`, prefixed until no property is called that (in any letter case)."""
    lowered = {t.lower() for t in taken}
    name = wanted
    while name.lower() in lowered:
        name = f"gis_{name}"
    return name
