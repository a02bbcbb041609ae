"""What a raster collection is: its grid, bands and where its Cloud-Optimized GeoTIFF lies.

Kept beside the vector metadata in `CollectionInfo.raster`, so a raster collection has the
same catalog record, access policy, versions and audit as any other collection.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

#: The first four bytes of a TIFF: classic and BigTIFF, either byte order.
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class BandStatistics(BaseModel):
    """Over the valid (not nodata) cells of a band, computed from the full-resolution data."""

    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    stddev: float | None = None
    valid_percent: float = 0.0


class BandInfo(BaseModel):
    """One band (an OGC API - Coverages range type field)."""

    name: str
    description: str | None = None
    unit: str | None = None
    statistics: BandStatistics = Field(default_factory=BandStatistics)


class RasterInfo(BaseModel):
    """The grid of a stored COG: its size, CRS, affine transform, dtype and bands.

    `file` is the server-generated name of this version's COG in the raster folder; it
    never appears in an answer (files are reached through ids only).
    """

    width: int
    height: int
    dtype: str
    nodata: float | None = None
    crs: str  # an authority code ("EPSG:32640") when there is one, else WKT
    crs_wkt: str
    transform: tuple[float, float, float, float, float, float]  # GDAL order: a, b, c, d, e, f
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy in `crs`
    bands: list[BandInfo]
    overviews: list[int] = Field(default_factory=list)  # decimation factors
    block: tuple[int, int] = (512, 512)  # width, height of the COG's tiles
    file: str = ""
    bytes: int = 0

    @property
    def resolution(self) -> tuple[float, float]:
        """Cell width and height in CRS units (both positive)."""
        return (abs(self.transform[0]), abs(self.transform[4]))

    def band_index(self, name: str) -> int | None:
        """The 1-based band number of a band name (or of a number given as text)."""
        for i, band in enumerate(self.bands, start=1):
            if band.name == name:
                return i
        if name.isascii() and name.isdigit() and 1 <= int(name) <= len(self.bands):
            return int(name)
        return None
