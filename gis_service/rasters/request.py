"""What a coverage request asks for, in the coverage's own terms: a light type the API
builds from its parameters without loading GDAL."""

from __future__ import annotations

from dataclasses import dataclass, field

Bounds = tuple[float, float, float, float]


@dataclass
class CoverageRequest:
    """What to read, in the coverage's own terms (parsed by the API from its parameters).

    `bounds` and `points` are in the coverage's native CRS (minx, miny, maxx, maxy; None
    for an open side); `size` is (width, height) with None for an unscaled axis;
    `factor` divides the number of cells along (x, y)."""

    bounds: list[float | None] = field(default_factory=lambda: [None, None, None, None])
    crs84_box: Bounds | None = None  # `bbox`, enclosed in CRS84
    bands: list[int] | None = None
    size: tuple[int | None, int | None] | None = None
    factor: tuple[float, float] | None = None
    crs: str | None = None  # output CRS as WKT; None: the native one
    version: int | None = None
