"""Coordinate reference systems (OGC API Features Part 2), with PROJ through pyproj.

The stores keep every geometry in CRS84; a CRS only changes coordinates on the way in
(`bbox-crs`, request bodies) and on the way out (`crs`). Coordinates are in the CRS's
authority axis order, as Part 2 requires: EPSG:4326 is latitude first, EPSG:3857 and UTM
are easting first, CRS84 is longitude first.

Thread safety: the service transforms in a threadpool. A pyproj (>= 3.1; 3.7 here)
`Transformer` keeps its PROJ object in a `threading.local` and builds one per thread on
first use, so one cached Transformer per CRS is safe to share between threads.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from ..errors import InvalidParameter
from .query import BBox, bbox_corners, parse_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"

#: What collections advertise: CRS84 first (Part 1's default), then the CRSs used in the
#: Gulf. Any other EPSG code PROJ knows works as well (see `resolve_crs`).
ADVERTISED_CRS: tuple[str, ...] = (
    CRS84,
    EPSG_URI.format(code=4326),  # WGS 84, latitude first
    EPSG_URI.format(code=3857),  # web maps
    EPSG_URI.format(code=32640),  # WGS 84 / UTM zone 40N (Sharjah, Dubai, the east)
    EPSG_URI.format(code=32639),  # WGS 84 / UTM zone 39N (Abu Dhabi, the west)
    EPSG_URI.format(code=3997),  # WGS 84 / Dubai Local TM
    EPSG_URI.format(code=27040),  # Nahrwan 1967 / UTM zone 40N (older UAE surveys)
)

_URI = re.compile(r"https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^/]+)", re.IGNORECASE)
_CURIE = re.compile(r"(\[?)(EPSG|OGC):(?::)?([^\]\s]+)(\]?)", re.IGNORECASE)
_URN = re.compile(r"urn:ogc:def:crs:(EPSG|OGC):[^:]*:([^:\s]+)", re.IGNORECASE)
_DENSIFY = 21  # points per bbox edge: a projected box's edges are curves in CRS84


class UntransformableGeometry(InvalidParameter):
    """A geometry has no finite coordinates in the other CRS (outside where it is defined).

    A 400 naming the parameter that named the CRS, unless a caller says more (which feature).
    """

    def __init__(self, parameter: str, index: int, uri: str) -> None:
        super().__init__(
            parameter, f"geometry {index} lies outside the area where {uri} is defined"
        )
        self.index = index


@dataclass(frozen=True)
class ServiceCrs:
    """A CRS the service can answer in; built once per code (see `resolve_crs`)."""

    uri: str
    is_crs84: bool
    name: str
    geographic: bool = False
    #: Which axis (0 or 1) is longitude in degrees; None when projected (or not degrees).
    lon_axis: int | None = None
    _forward: Transformer | None = field(default=None, repr=False, compare=False)
    _inverse: Transformer | None = field(default=None, repr=False, compare=False)
    #: The request parameter that named this CRS, for errors (see `resolve_crs`).
    parameter: str = field(default="crs", compare=False)
    #: Whether the authority's first axis is latitude/northing (EPSG:4326, ...).
    northing_first: bool = False

    def from_crs84(self, geometries: np.ndarray) -> np.ndarray:
        """Stored (CRS84) geometries in this CRS; raises UntransformableGeometry."""
        if self.is_crs84:
            return geometries
        return self._apply(self._forward, geometries)

    def from_crs84_xy(self, geometries: np.ndarray) -> np.ndarray:
        """As `from_crs84` but easting/longitude first: the order GIS files hold (GDAL
        writes GeoPackage, Shapefile, FlatGeobuf and GeoParquet that way whatever the CRS
        says), unlike OGC API answers, which follow the authority."""
        out = self.from_crs84(geometries)
        if not self.northing_first:
            return out
        return shapely.transform(out, lambda xy: xy[:, ::-1])

    def to_crs84(self, geometries: np.ndarray) -> np.ndarray:
        """Geometries given in this CRS, as the stores keep them (CRS84)."""
        if self.is_crs84:
            return geometries
        return self._apply(self._inverse, geometries)

    def _apply(self, transformer: Transformer | None, geometries: np.ndarray) -> np.ndarray:
        assert transformer is not None

        def move(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
            return np.column_stack((x, y))

        out = shapely.transform(np.asarray(geometries, dtype=object), move)
        coords, index = shapely.get_coordinates(out, return_index=True)
        bad = ~np.isfinite(coords).all(axis=1)
        if bad.any():
            raise UntransformableGeometry(self.parameter, int(index[bad.argmax()]), self.uri)
        return out

    def bbox_to_crs84(self, minx: float, miny: float, maxx: float, maxy: float) -> BBox:
        """A box in this CRS (axis order of the CRS) as the CRS84 box that encloses it.

        The edges are densified, so a projected box's curved outline in CRS84 is enclosed
        (the result can reach a little beyond the box's corners, never fall short). A
        geographic box whose minimum longitude exceeds its maximum crosses the antimeridian.
        Raises ValueError with a reason a client can act on.
        """
        if self.is_crs84:
            return BBox(minx, miny, maxx, maxy)
        lo, hi = [minx, miny], [maxx, maxy]
        if self.lon_axis is not None:  # degrees, as every EPSG geographic 2D CRS used here
            lat_axis = 1 - self.lon_axis
            for value in (lo[self.lon_axis], hi[self.lon_axis]):
                if not -180 <= value <= 180:
                    raise ValueError(f"longitude {value} is outside -180..180")
            for value in (lo[lat_axis], hi[lat_axis]):
                if not -90 <= value <= 90:
                    raise ValueError(f"latitude {value} is outside -90..90")
        crossing = self.lon_axis is not None and lo[self.lon_axis] > hi[self.lon_axis]
        for axis in (0, 1):
            if lo[axis] > hi[axis] and not (crossing and axis == self.lon_axis):
                raise ValueError(f"the minimum of axis {axis + 1} is above its maximum")
        if crossing:
            assert self.lon_axis is not None
            east_hi, west_lo = list(hi), list(lo)
            east_hi[self.lon_axis], west_lo[self.lon_axis] = 180.0, -180.0
            first = self._bounds(lo, east_hi)
            second = self._bounds(west_lo, hi)
            return BBox(first[0], min(first[1], second[1]), second[2], max(first[3], second[3]))
        w, s, e, n = self._bounds(lo, hi)
        return BBox(w, s, e, n)

    def _bounds(self, lo: list[float], hi: list[float]) -> tuple[float, float, float, float]:
        assert self._inverse is not None
        try:
            w, s, e, n = self._inverse.transform_bounds(*lo, *hi, densify_pts=_DENSIFY)
        except ProjError:
            w = s = e = n = math.inf
        if not all(math.isfinite(v) for v in (w, s, e, n)):
            raise ValueError(f"the box lies outside the area where {self.uri} is defined")
        clamp = lambda v, limit: max(-limit, min(limit, v))  # noqa: E731
        return clamp(w, 180.0), clamp(s, 90.0), clamp(e, 180.0), clamp(n, 90.0)


_CRS84 = ServiceCrs(uri=CRS84, is_crs84=True, name="WGS 84 (CRS84)", geographic=True, lon_axis=0)


def _parse(text: str) -> tuple[str, str] | None:
    """(authority, code) from a URI, a (safe) CURIE or an OGC URN; None: not a CRS name."""
    text = text.strip()
    for pattern in (_URI, _URN):
        if m := pattern.fullmatch(text):
            return m.group(1).upper(), m.group(2)
    m = _CURIE.fullmatch(text)
    if m and bool(m.group(1)) == bool(m.group(4)):  # both brackets or neither
        return m.group(2).upper(), m.group(3)
    return None


@functools.lru_cache(maxsize=256)
def _load(authority: str, code: str) -> ServiceCrs | str:
    """The ServiceCrs for a code, or why it cannot be one (cached either way)."""
    if authority == "OGC":
        if code.upper() == "CRS84":
            return _CRS84
        if code.upper() == "CRS84H":
            return "is three-dimensional; the data is two-dimensional (use CRS84)"
        return "is not a CRS this service knows (OGC: only CRS84)"
    if not (code.isascii() and code.isdigit()) or len(code) > 9:
        return "is not an EPSG code (expected ASCII digits)"
    code = str(int(code))
    try:
        crs = CRS.from_authority("EPSG", code)
    except CRSError:
        return "is not an EPSG code PROJ knows"
    kinds = ("Geographic 2D CRS", "Projected CRS")
    if crs.type_name not in kinds or len(crs.axis_info) != 2:
        return (
            f"names {crs.name!r}, a {crs.type_name}; only two-dimensional geographic and "
            "projected CRSs are supported"
        )
    try:
        source = CRS.from_user_input("OGC:CRS84")
        forward = Transformer.from_crs(source, crs, always_xy=False)
        inverse = Transformer.from_crs(crs, source, always_xy=False)
    except ProjError:
        return f"names {crs.name!r}, which cannot be transformed from WGS 84"
    lon_axis = None
    if crs.is_geographic:
        directions = [a.direction.lower() for a in crs.axis_info]
        lon_axis = next((i for i, d in enumerate(directions) if d in ("east", "west")), 1)
        if any(a.unit_name != "degree" for a in crs.axis_info):
            lon_axis = None  # grads and the like: PROJ's transform_bounds checks them
    first = crs.axis_info[0].direction.lower()
    return ServiceCrs(
        northing_first=first in ("north", "south"),
        uri=EPSG_URI.format(code=code),
        is_crs84=False,
        name=crs.name,
        geographic=crs.is_geographic,
        lon_axis=lon_axis,
        _forward=forward,
        _inverse=inverse,
    )


def resolve_crs(parameter: str, text: str) -> ServiceCrs:
    """A CRS named by URI (`http(s)://www.opengis.net/def/crs/EPSG/0/{code}`, CRS84),
    `EPSG:{code}`, `[EPSG:{code}]` or an OGC URN; anything else is a 400 naming `parameter`.
    """
    shown = text if len(text) <= 100 else text[:100] + "..."
    key = _parse(text) if len(text) <= 200 else None
    if key is None:
        raise InvalidParameter(
            parameter,
            f"{shown!r} is not a CRS identifier (expected a URI such as "
            f"{EPSG_URI.format(code=4326)} or {CRS84}, or EPSG:{{code}})",
        )
    found = _load(*key)
    if isinstance(found, str):
        raise InvalidParameter(parameter, f"{shown!r} {found}")
    # the same transformers, remembering which parameter named the CRS (for its errors)
    return found if found.parameter == parameter else replace(found, parameter=parameter)


def crs84() -> ServiceCrs:
    return _CRS84


def output_crs(text: str | None, parameter: str = "crs") -> ServiceCrs:
    """The `crs` query parameter (CRS84 when absent)."""
    return _CRS84 if text is None else resolve_crs(parameter, text)


def parse_bbox_crs(bbox: str | None, bbox_crs: str | None) -> BBox | None:
    """`bbox` read in the CRS `bbox-crs` names (CRS84 when absent), as a CRS84 box."""
    crs = output_crs(bbox_crs, "bbox-crs")
    if bbox is None or crs.is_crs84:
        return parse_bbox(bbox)
    minx, miny, maxx, maxy = bbox_corners(bbox)
    try:
        return crs.bbox_to_crs84(minx, miny, maxx, maxy)
    except ValueError as exc:
        raise InvalidParameter("bbox", f"{exc} (bbox-crs {crs.uri})") from None
