"""GeoPackage, Shapefile and FlatGeobuf downloads, written through GDAL from Arrow batches.

One `pyogrio.write_arrow` call pulls the batches as an Arrow stream, so GDAL writes them
as they come and memory stays flat. A Shapefile is zipped with its `.cpg` (UTF-8).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyogrio

from ..errors import InvalidParameter
from ..store.streaming import ExportBatch
from .arrow import ArrowLayout, arrow_layout, record_batch
from .selection import Export, free_name

DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "fgb": "FlatGeobuf"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
DBF_NAME_BYTES = 10

# WKB type codes (ISO, heights stripped by `% 1000`) -> Shapefile shape families.
_FAMILIES = {1: "Point", 4: "Point", 2: "Line", 5: "Line", 3: "Polygon", 6: "Polygon"}
_TYPE_NAMES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint"}
_TYPE_NAMES |= {5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def layer_type(geometry_type: str) -> str:
    """A collection's geometry type as GDAL names a layer's (mixed is "Unknown")."""
    return "Unknown" if geometry_type == "Geometry" else geometry_type


def wkb_type_codes(batches: Iterable[ExportBatch]) -> set[int]:
    """The ISO WKB type codes present (1-7, plus 1000 with heights), from the headers only."""
    codes: set[int] = set()
    for batch in batches:
        for wkb in batch.wkbs:
            if wkb is not None:
                raw = struct.unpack_from("<I" if wkb[0] == 1 else ">I", wkb, 1)[0]
                code = (raw & 0xFFFF) % 2000  # ISO codes; 2000s (M) are kept as plain
                codes.add(code + 1000 if raw & 0x80000000 and code < 1000 else code)
    return codes


def _heights(codes: set[int]) -> str:
    return " Z" if any(c >= 1000 for c in codes) else ""


def shapefile_type(codes: set[int]) -> str:
    """The one layer type a Shapefile can hold these in; singles go in multi layers.

    A Shapefile has one shape type per file: points, lines or polygons (a polygon shape
    holds several rings, so polygons and multipolygons share one), with or without heights.
    """
    plain = {c % 1000 for c in codes}
    families = {_FAMILIES.get(c) for c in plain}
    if None in families or len(families) > 1:
        found = ", ".join(sorted(_TYPE_NAMES.get(c, str(c)) for c in plain))
        raise InvalidParameter(
            "f",
            f"a Shapefile holds one kind of geometry (points, lines or polygons) but this"
            f" selection has {found}; choose f=gpkg or f=fgb, or filter to one kind",
        )
    if not plain or plain == {1}:
        return "Point" + _heights(codes)  # (nothing to hold: any type will do)
    family = families.pop()
    multi = {"Point": "MultiPoint", "Line": "MultiLineString", "Polygon": "MultiPolygon"}
    return multi[family] + _heights(codes)


def flatgeobuf_type(codes: set[int]) -> str:
    """One type when there is one (with heights when any has them), else "Unknown".

    GDAL cannot declare a mixed layer with heights, so a mixed FlatGeobuf is 2D.
    """
    plain = {c % 1000 for c in codes}
    if len(plain) != 1:
        return "Unknown"
    return _TYPE_NAMES[plain.pop()] + _heights(codes)


def dbf_names(names: list[str]) -> list[str]:
    """Property names cut to the 10 bytes a .dbf allows (on a character boundary, UTF-8),
    made unique without regard to letter case by numbering the ones that collide."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        candidate = _cut(name, DBF_NAME_BYTES)
        number = 1
        while candidate.lower() in taken:
            suffix = f"_{number}"
            candidate = _cut(name, DBF_NAME_BYTES - len(suffix)) + suffix
            number += 1
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def _cut(text: str, size: int) -> str:
    return text.encode()[:size].decode(errors="ignore")


def write_ogr(
    fmt: str,
    batches: Iterable[ExportBatch],
    export: Export,
    folder: Path,
    *,
    geometry_type: str,
) -> Path:
    """Write the layer into `folder`; returns the file to send (a zip for Shapefiles)."""
    stem = export.info.id
    names = export.names
    options: dict[str, str] = {}
    out_names = names
    if fmt == "shp":
        out_names = dbf_names(names)
        id_name = free_name("id", out_names)
    elif fmt == "gpkg":
        id_name = free_name("fid", names)
        options["FID"] = id_name  # the features keep their ids as GeoPackage feature ids
    else:
        id_name = free_name("id", names)
    if fmt == "fgb" and export.info.has_null_geometry:
        options["SPATIAL_INDEX"] = "NO"  # FlatGeobuf's index cannot hold a missing geometry
    layout = arrow_layout(
        export,
        id_name=id_name,
        geometry_name=free_name("geometry", [id_name, *out_names]),
        names=out_names,
    )
    suffix = ".shp" if fmt == "shp" else f".{fmt}"
    path = folder / f"{stem}{suffix}"
    pyogrio.write_arrow(
        pa.RecordBatchReader.from_batches(layout.schema, _arrow(batches, export, layout)),
        path,
        layer=stem,
        driver=DRIVERS[fmt],
        geometry_name=layout.geometry_name,
        geometry_type=geometry_type if export.geometry else None,
        crs=_crs(export),
        encoding="UTF-8" if fmt == "shp" else None,
        layer_options=options or None,
    )
    if fmt != "shp":
        return path
    archive = folder / f"{stem}.shp.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for part in SHAPEFILE_PARTS:
            member = path.with_suffix(part)
            if member.exists():
                zf.write(member, member.name)
                member.unlink()
    return archive


def _arrow(
    batches: Iterable[ExportBatch], export: Export, layout: ArrowLayout
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if len(batch):
            yield record_batch(batch, export, layout)


def _crs(export: Export) -> str | None:
    if not export.geometry:
        return None
    return export.crs.uri if export.crs is not None else "EPSG:4326"
