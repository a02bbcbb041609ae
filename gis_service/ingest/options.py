"""What an import is asked to do and what it reports: light types the HTTP layer can
import without loading GDAL and Arrow (uvicorn workers stay small)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.collection import CollectionInfo, PropertyDef
from ..rasters.limits import RasterLimits
from ..store.base import Actor
from .validate import MAX_REJECTIONS_LISTED, Checked, Rejection


@dataclass
class IngestOptions:
    collection_id: str
    title: str | None = None
    description: str | None = None
    title_ar: str | None = None
    keywords: list[str] | None = None
    license: str | None = None
    attribution: str | None = None
    layer: str | None = None
    temporal: tuple[str, str | None] | None = None
    progress: bool = False
    append: bool = False
    encoding: str | None = None  # the source's text encoding, when it does not say
    on_progress: Callable[[int, int | None], None] | None = None  # (done, total)
    actor: Actor | None = None  # who imports, for the version record
    create_only: bool = False  # a new collection: never replace one that exists (409)
    raster_limits: RasterLimits = field(default_factory=RasterLimits)  # GeoTIFF uploads


@dataclass
class IngestReport:
    collection_id: str
    features_read: int = 0
    features_stored: int = 0
    source_crs: str | None = None
    reprojected: bool = False
    bbox: tuple[float, float, float, float] | None = None
    geometry_type: str = "Geometry"
    seconds: float = 0.0
    properties: list[PropertyDef] = field(default_factory=list)
    repaired: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    raster: dict[str, Any] | None = None  # a raster import: the stored grid, in brief

    def note(self, checked: Checked) -> None:
        self.repaired += checked.repaired
        self.rejected += len(checked.rejections)
        room = MAX_REJECTIONS_LISTED - len(self.rejections)
        self.rejections.extend(checked.rejections[: max(room, 0)])

    def document(self) -> dict[str, Any]:
        """The report as JSON: in upload answers, job results and the version record."""
        if self.raster is not None:
            return {
                "raster": self.raster,
                "source_crs": self.source_crs,
                "bbox": self.bbox,
                "seconds": round(self.seconds, 3),
            }
        return {
            "features_read": self.features_read,
            "features_stored": self.features_stored,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "rejections": [{"row": r.row, "reason": r.reason} for r in self.rejections],
            "source_crs": self.source_crs,
            "reprojected": self.reprojected,
            "bbox": self.bbox,
            "geometry_type": self.geometry_type,
            "schema": [{"name": p.name, "type": p.type.value} for p in self.properties],
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        bbox = ", ".join(f"{v:.6f}" for v in self.bbox) if self.bbox else "empty"
        if self.raster is not None:
            grid = self.raster
            return [
                f"collection      {self.collection_id} (raster, stored as a COG)",
                f"grid            {grid['width']} x {grid['height']} x {grid['bands']}"
                f" {grid['dtype']}, nodata {grid['nodata']}",
                f"bands           {', '.join(grid['band_names'])}",
                f"overviews       {grid['overviews'] or 'none'}",
                f"CRS             {self.source_crs}",
                f"extent (CRS84)  {bbox}",
                f"seconds         {self.seconds:.2f}",
            ]
        return [
            f"collection      {self.collection_id}",
            f"features read   {self.features_read}",
            f"features stored {self.features_stored}",
            f"repaired        {self.repaired} (invalid geometries made valid)",
            f"rejected        {self.rejected}"
            + "".join(f"\n  row {r.row}: {r.reason}" for r in self.rejections[:10]),
            f"geometry        {self.geometry_type}",
            f"source CRS      {self.source_crs or 'unknown (taken as EPSG:4326)'}"
            + (" -> reprojected to EPSG:4326" if self.reprojected else ""),
            f"extent          {bbox}",
            f"seconds         {self.seconds:.2f}",
        ]


_DESCRIPTIVE = ("title", "title_ar", "description", "keywords", "license", "attribution")


def descriptive_fields(options: IngestOptions, previous: CollectionInfo | None) -> dict[str, Any]:
    """What the import says, else what the collection said before, else defaults."""
    out: dict[str, Any] = {}
    for name in _DESCRIPTIVE:
        value = getattr(options, name)
        if value is None and previous is not None:
            value = getattr(previous, name)
        if value is not None:
            out[name] = value
    out.setdefault("title", options.collection_id)
    return out
