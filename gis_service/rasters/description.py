"""A raster collection described as OGC API - Coverages asks: its domain set (the grid:
axes, bounds, resolution, CRS) and range type (the bands), in CIS 1.1 JSON.

Axis labels are the CRS's own abbreviations in the CRS's order (`Lat`, `Lon` for
EPSG:4326, `E`, `N` for UTM), which is what `subset` and `scale-size` name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pyproj import CRS

from ..domain.raster import RasterInfo

COVERAGE_REL = "http://www.opengis.net/def/rel/ogc/1.0/coverage"
DOMAINSET_REL = "http://www.opengis.net/def/rel/ogc/1.0/coverage-domainset"
RANGETYPE_REL = "http://www.opengis.net/def/rel/ogc/1.0/coverage-rangetype"
CONFORMANCE = tuple(
    f"http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/{name}"
    for name in (
        "core",
        "subsetting",
        "scaling",
        "fieldselection",
        "crs",
        "geotiff",
        "png",
    )
)
DATA_TYPE = "http://www.opengis.net/def/dataType/OGC/0/{}"


@dataclass(frozen=True)
class Axis:
    """One CRS axis: its label, whether it runs along the grid's columns (x) or rows (y),
    and its unit."""

    label: str
    grid: str  # "x" or "y"
    unit: str


def raster_axes(raster: RasterInfo) -> tuple[Axis, ...]:
    """The axes of a raster's CRS, from its authority's definition where it has one (a
    GeoTIFF's WKT 1 names no axis abbreviations)."""
    code = raster.crs if ":" in raster.crs and "[" not in raster.crs else raster.crs_wkt
    return crs_axes(code)


@lru_cache(maxsize=256)
def crs_axes(crs: str) -> tuple[Axis, ...]:
    """The CRS's two horizontal axes in its own order."""
    axes = []
    for info in CRS.from_user_input(crs).axis_info[:2]:
        grid = "x" if info.direction.lower() in ("east", "west") else "y"
        axes.append(Axis(info.abbrev or ("x" if grid == "x" else "y"), grid, info.unit_name))
    return tuple(axes)


def crs_uri(code: str) -> str:
    """`EPSG:4326` -> its OGC URI; WKT (no code) stays as it is."""
    authority, _, number = code.partition(":")
    if number and authority.isalpha() and ":" not in number:
        return f"http://www.opengis.net/def/crs/{authority}/0/{number}"
    return code


def domain_set(raster: RasterInfo) -> dict[str, Any]:
    """The grid, as CIS 1.1 JSON (`DomainSet` with a `generalGrid`)."""
    minx, miny, maxx, maxy = raster.bounds
    resx, resy = raster.resolution
    axes = []
    for axis in raster_axes(raster):
        low, high, res = (minx, maxx, resx) if axis.grid == "x" else (miny, maxy, resy)
        axes.append(
            {
                "type": "RegularAxis",
                "axisLabel": axis.label,
                "lowerBound": low,
                "upperBound": high,
                "resolution": res,
                "uomLabel": axis.unit,
            }
        )
    labels = [a["axisLabel"] for a in axes]
    order = [a.grid for a in raster_axes(raster)]
    sizes = {"x": raster.width, "y": raster.height}
    index = {"x": "i", "y": "j"}
    return {
        "type": "DomainSet",
        "generalGrid": {
            "type": "GeneralGridCoverage",
            "srsName": crs_uri(raster.crs),
            "axisLabels": labels,
            "axis": axes,
            "gridLimits": {
                "type": "GridLimits",
                "srsName": "http://www.opengis.net/def/crs/OGC/0/Index2D",
                "axisLabels": [index[g] for g in order],
                "axis": [
                    {
                        "type": "IndexAxis",
                        "axisLabel": index[g],
                        "lowerBound": 0,
                        "upperBound": sizes[g] - 1,
                    }
                    for g in order
                ],
            },
        },
    }


def range_type(raster: RasterInfo) -> dict[str, Any]:
    """The bands, as CIS 1.1 JSON (`DataRecord` of `Quantity` fields)."""
    fields = []
    for band in raster.bands:
        field: dict[str, Any] = {
            "type": "Quantity",
            "id": band.name,
            "name": band.name,
            "definition": DATA_TYPE.format(raster.dtype),
            "encodingInfo": {"dataType": DATA_TYPE.format(raster.dtype)},
        }
        if band.description:
            field["description"] = band.description
        if band.unit:
            field["uom"] = {"type": "UnitReference", "code": band.unit}
        if raster.nodata is not None:
            field["nilValues"] = [{"value": raster.nodata, "reason": "nodata"}]
        stats = band.statistics
        if stats.minimum is not None:
            field["statistics"] = stats.model_dump()
        fields.append(field)
    return {"type": "DataRecord", "field": fields}
