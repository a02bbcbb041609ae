"""Which representation to answer with: `f=` wins, then the Accept header."""

from __future__ import annotations

from enum import StrEnum

from fastapi import Request

from ...errors import InvalidParameter, UnknownParameter

BASE_PARAMS = frozenset({"f"})


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    # Downloads of a whole selection (items only; see api/features/downloads.py).
    GEOJSON = "geojson"
    CSV = "csv"
    GPKG = "gpkg"
    SHP = "shp"
    FGB = "fgb"
    PARQUET = "parquet"
    KML = "kml"


DOWNLOAD_FORMATS = frozenset(
    {Format.GEOJSON, Format.CSV, Format.GPKG, Format.SHP, Format.FGB, Format.PARQUET, Format.KML}
)
_ALIASES = {"json": Format.JSON, "geojson": Format.JSON, "html": Format.HTML}


def negotiate(request: Request, *, downloads: bool = False) -> Format:
    """`downloads`: the resource also offers the download formats (by `f=` only)."""
    requested = request.query_params.get("f")
    if requested is not None:
        name = requested.lower()
        if downloads and name in DOWNLOAD_FORMATS:
            return Format(name)
        try:
            return _ALIASES[name]
        except KeyError:
            choices = ["json", "html", *(sorted(DOWNLOAD_FORMATS) if downloads else [])]
            raise InvalidParameter(
                "f", f"{requested!r} is not one of {', '.join(choices)}"
            ) from None
    accept = request.headers.get("accept", "")
    best, best_q = Format.JSON, -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        fmt = (
            Format.HTML
            if media in ("text/html", "application/xhtml+xml")
            else (Format.JSON if media.endswith(("json", "/*")) or media == "*/*" else None)
        )
        if fmt is not None and q > best_q:
            best, best_q = fmt, q
    return best


def reject_unknown(request: Request, allowed: frozenset[str] | set[str]) -> None:
    """OGC /req/core/query-param-unknown: parameters the API does not declare are a 400."""
    for name in request.query_params:
        if name not in allowed:
            raise UnknownParameter(name, "this parameter is not defined for this resource")
    for name, value in request.query_params.multi_items():
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidParameter(name, f"given more than once (last value {value!r})")


READ = ["GET", "HEAD"]  # HTTP/1.1 (OGC /req/core/http): every readable resource answers HEAD
