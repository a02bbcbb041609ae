"""The download formats: `f=` value, media type, file name extension."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class DownloadFormat:
    name: str  # the `f=` value
    media_type: str
    extension: str
    title: str
    streamed: bool  # written chunk by chunk; otherwise built as a file first


FORMATS = {
    f.name: f
    for f in (
        DownloadFormat("geojson", "application/geo+json", "geojson", "GeoJSON", True),
        DownloadFormat("csv", "text/csv; charset=utf-8", "csv", "CSV with WKT geometry", True),
        DownloadFormat("gpkg", "application/geopackage+sqlite3", "gpkg", "GeoPackage", False),
        DownloadFormat("shp", "application/zip", "shp.zip", "Shapefile (zipped)", False),
        DownloadFormat("fgb", "application/flatgeobuf", "fgb", "FlatGeobuf", False),
        DownloadFormat("parquet", "application/vnd.apache.parquet", "parquet", "GeoParquet", False),
        DownloadFormat("kml", "application/vnd.google-earth.kml+xml", "kml", "KML", True),
    )
}


def attachment(stem: str, extension: str) -> str:
    """RFC 6266 Content-Disposition: a plain ASCII `filename` plus the exact UTF-8 one.

    Collection ids are ASCII already; the fallback still replaces anything a quoted
    string or a file system could mistake, so a future id cannot break the header.
    """
    name = f"{stem}.{extension}"
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
