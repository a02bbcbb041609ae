"""The coverage request's parameters, read into a `CoverageRequest` in the coverage's own
CRS: `subset` and `scale-*` name the domain set's axis labels (`Lat`, `Lon`; `E`, `N`),
`bbox` is CRS84 unless `bbox-crs` says otherwise, `subset` names the axes of `subset-crs`
when given (`Lon`, `Lat` for CRS84), `properties` names bands."""

from __future__ import annotations

import math
import re

from pyproj import CRS as ProjCrs
from pyproj import Transformer
from starlette.datastructures import QueryParams

from ...domain.crs import output_crs, parse_bbox_crs
from ...domain.query import parse_version
from ...domain.raster import RasterInfo
from ...errors import InvalidParameter
from ...rasters.description import crs_axes, raster_axes
from ...rasters.request import CoverageRequest

#: The earlier drafts' spelling, which GDAL's OGCAPI driver (3.6) still sends.
ALIASES = {"scaleSize": "scale-size", "scaleFactor": "scale-factor", "scaleAxes": "scale-axes"}
PARAMS = frozenset(
    {"f", "bbox", "bbox-crs", "subset", "subset-crs", "scale-size", "scale-factor",
     "scale-axes", "properties", "crs", "version", *ALIASES}
)  # fmt: skip
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")  # ASCII only
_AXIS = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\((.*)\)\s*$")
_MAX_SIZE = 100_000  # cells along one axis; the answer's limit is checked after


def parse_coverage(params: QueryParams, raster: RasterInfo) -> CoverageRequest:
    request = CoverageRequest(version=parse_version(params.get("version")))
    box = parse_bbox_crs(params.get("bbox"), params.get("bbox-crs"))
    if box is not None:
        if box.minx > box.maxx:
            raise InvalidParameter("bbox", "a box crossing the antimeridian is not supported")
        request.crs84_box = (box.minx, box.miny, box.maxx, box.maxy)
    axes = {axis.label: axis.grid for axis in raster_axes(raster)}
    subsets = params.getlist("subset")
    if (subset_crs := params.get("subset-crs")) is not None:
        request.bounds = _crs_subset(subsets, subset_crs, raster)
    for text in subsets if subset_crs is None else []:
        for label, low, high in _subsets(text, axes):
            index = 0 if axes[label] == "x" else 1
            request.bounds[index], request.bounds[index + 2] = low, high
    request.size, request.factor = _scaling(params, axes)
    if (names := params.get("properties")) is not None:
        request.bands = _bands(names, raster)
    if (crs := params.get("crs")) is not None:
        request.crs = ProjCrs.from_user_input(output_crs(crs).uri).to_wkt()
    return request


def _crs_subset(subsets: list[str], text: str, raster: RasterInfo) -> list[float | None]:
    """`subset` on the axes of `subset-crs`, as the native box enclosing it (open ends:
    the coverage's own extent seen in that CRS)."""
    crs = ProjCrs.from_user_input(output_crs(text, "subset-crs").uri)
    axes = {axis.label: axis.grid for axis in crs_axes(crs.to_wkt())}
    box: list[float | None] = [None, None, None, None]
    for given in subsets:
        for label, low, high in _subsets(given, axes):
            index = 0 if axes[label] == "x" else 1
            box[index], box[index + 2] = low, high
    if box == [None, None, None, None]:
        return box
    native = ProjCrs.from_wkt(raster.crs_wkt)
    there = Transformer.from_crs(native, crs, always_xy=True)
    back = Transformer.from_crs(crs, native, always_xy=True)
    try:
        extent = there.transform_bounds(*raster.bounds, densify_pts=21)
        filled = [extent[i] if v is None else v for i, v in enumerate(box)]
        out = back.transform_bounds(*filled, densify_pts=21)
    except Exception:  # pyproj: a box the projection cannot carry
        message = f"cannot be carried from {text[:60]} to the coverage"
        raise InvalidParameter("subset", message) from None
    if not all(math.isfinite(v) for v in out):
        raise InvalidParameter("subset", f"lies outside what {text[:60]} can carry")
    return list(out)


def _label(name: str, axes: dict[str, str], parameter: str) -> str:
    if name in axes:
        return name
    for label in axes:
        if label.lower() == name.lower():
            return label
    raise InvalidParameter(
        parameter, f"axis {name!r} is not one of the coverage's axes ({', '.join(axes)})"
    )


def _number(text: str, parameter: str) -> float:
    text = text.strip().strip('"')
    if not _NUMBER.match(text) or not math.isfinite(value := float(text)):
        raise InvalidParameter(parameter, f"{text[:40]!r} is not a number")
    return value


def _axis_parts(text: str, parameter: str) -> list[tuple[str, str]]:
    """`A(x),B(y)` -> [(A, x), (B, y)] (commas inside parentheses are not separators)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    out = []
    for part in parts:
        found = _AXIS.match(part)
        if found is None:
            raise InvalidParameter(parameter, f"{part[:60]!r} is not axisName(...)")
        out.append((found[1], found[2]))
    return out


def _subsets(text: str, axes: dict[str, str]) -> list[tuple[str, float | None, float | None]]:
    out = []
    for name, inner in _axis_parts(text, "subset"):
        label = _label(name, axes, "subset")
        if ":" in inner:
            low_text, _, high_text = inner.partition(":")
            low = None if low_text.strip() == "*" else _number(low_text, "subset")
            high = None if high_text.strip() == "*" else _number(high_text, "subset")
            if low is not None and high is not None and low > high:
                raise InvalidParameter("subset", f"{label}: the low end is above the high end")
        else:
            low = high = _number(inner, "subset")  # a slice: the one cell there
        out.append((label, low, high))
    return out


def _scaling(
    query: QueryParams, axes: dict[str, str]
) -> tuple[tuple[int | None, int | None] | None, tuple[float, float] | None]:
    params = {ALIASES.get(name, name): value for name, value in query.items()}
    given = [name for name in ("scale-size", "scale-factor", "scale-axes") if name in params]
    given += [alias for alias, name in ALIASES.items() if alias in query and name in query]
    if len(given) > 1:
        raise InvalidParameter(given[1], "use one of scale-size, scale-factor, scale-axes")
    if "scale-factor" in params:
        factor = _number(params["scale-factor"], "scale-factor")
        if factor <= 0:
            raise InvalidParameter("scale-factor", "must be above 0")
        return None, (factor, factor)
    if "scale-axes" in params:
        factors = {"x": 1.0, "y": 1.0}
        for name, inner in _axis_parts(params["scale-axes"], "scale-axes"):
            value = _number(inner, "scale-axes")
            if value <= 0:
                raise InvalidParameter("scale-axes", "factors must be above 0")
            factors[axes[_label(name, axes, "scale-axes")]] = value
        return None, (factors["x"], factors["y"])
    if "scale-size" in params:
        sizes: dict[str, int | None] = {"x": None, "y": None}
        for name, inner in _axis_parts(params["scale-size"], "scale-size"):
            value = _number(inner, "scale-size")
            if value != int(value) or not 1 <= value <= _MAX_SIZE:
                raise InvalidParameter("scale-size", f"counts are whole numbers 1 to {_MAX_SIZE}")
            sizes[axes[_label(name, axes, "scale-size")]] = int(value)
        return (sizes["x"], sizes["y"]), None
    return None, None


def _bands(text: str, raster: RasterInfo) -> list[int]:
    bands = []
    for name in (n.strip() for n in text.split(",")):
        index = raster.band_index(name)
        if index is None:
            known = ", ".join(b.name for b in raster.bands)
            raise InvalidParameter("properties", f"{name[:40]!r} is not a band ({known})")
        if index in bands:
            raise InvalidParameter("properties", f"band {name!r} is named twice")
        bands.append(index)
    return bands
