"""GeoPackage 1.4 encoding: geometry blobs, the required tables and the R-tree triggers.

Python's sqlite3 cannot load SpatiaLite, so the few SQL functions GeoPackage triggers and
our queries need are registered here, implemented on the blob header and Shapely.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from pyproj import CRS

from ..sql import quote

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400
_ENVELOPE_SIZES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi4d")
_EMPTY_FLAGS = 0b0001_0001  # little endian, empty, no envelope


def encode(geometries: np.ndarray, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage blobs: header with an XY envelope, then ISO WKB (little endian)."""
    wkbs = shapely.to_wkb(geometries, flavor="iso", byte_order=1, include_srid=False)
    bounds = shapely.bounds(geometries)
    empty = shapely.is_empty(geometries)
    blobs: list[bytes | None] = []
    pack = _HEADER.pack
    for wkb, (minx, miny, maxx, maxy), is_empty in zip(wkbs, bounds, empty, strict=True):
        if wkb is None:
            blobs.append(None)
        elif is_empty:
            blobs.append(struct.pack("<2sBBi", b"GP", 0, _EMPTY_FLAGS, srs_id) + wkb)
        else:
            blobs.append(pack(b"GP", 0, 0b0000_0011, srs_id, minx, maxx, miny, maxy) + wkb)
    return blobs


def wkb_of(blob: bytes | None) -> bytes | None:
    """The WKB inside a GeoPackage blob."""
    if blob is None:
        return None
    flags = blob[3]
    return bytes(blob[8 + _ENVELOPE_SIZES[(flags >> 1) & 0b111] :])


def wkbs_of(blobs: Sequence[bytes | None]) -> list[bytes | None]:
    """The WKB inside GeoPackage blobs: one slice each when all share one header layout."""
    try:
        flags = {blob[3] for blob in blobs}  # type: ignore[index]
    except TypeError:  # a missing geometry
        return [wkb_of(blob) for blob in blobs]
    if len(flags) != 1:
        return [wkb_of(blob) for blob in blobs]
    first = blobs[0]
    start = len(first) - len(wkb_of(first))  # type: ignore[arg-type]
    return [blob[start:] for blob in blobs]  # type: ignore[index]


def envelope_of(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or from the geometry when absent."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0b1_0000:
        return None
    if (flags >> 1) & 0b111:
        order = "<" if flags & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(wkb_of(blob))
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def intersects_box(blob: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    """Exact bbox intersection; the header decides unless the envelope straddles the box."""
    env = envelope_of(blob)
    if env is None:
        return 0
    ex0, ex1, ey0, ey1 = env
    if ex0 > maxx or ex1 < minx or ey0 > maxy or ey1 < miny:
        return 0
    if (ex0 >= minx and ex1 <= maxx and ey0 >= miny and ey1 <= maxy) or (ex0 == ex1 and ey0 == ey1):
        return 1
    geom = shapely.from_wkb(wkb_of(blob))
    return int(shapely.intersects(geom, shapely.box(minx, miny, maxx, maxy)))


def _envelope_part(index: int):
    def part(blob: bytes | None) -> float | None:
        env = envelope_of(blob)
        return None if env is None else env[index]

    return part


def register_functions(conn: sqlite3.Connection) -> None:
    """What GeoPackage R-tree triggers call, plus our exact bbox predicate."""
    conn.create_function(
        "ST_IsEmpty",
        1,
        lambda b: None if b is None else int(envelope_of(b) is None),
        deterministic=True,
    )
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _envelope_part(i), deterministic=True)
    conn.create_function("gis_intersects_box", 5, intersects_box, deterministic=True)


_SRS_4326 = CRS.from_epsg(4326).to_wkt(version="WKT1_GDAL")

CORE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
  md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml',
  metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE gpkg_metadata_reference (
  reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
INSERT INTO gpkg_extensions VALUES
  ('gpkg_metadata', NULL, 'gpkg_metadata', 'http://www.geopackage.org/spec/#extension_metadata',
   'read-write'),
  ('gpkg_metadata_reference', NULL, 'gpkg_metadata',
   'http://www.geopackage.org/spec/#extension_metadata', 'read-write');
"""

# Our collection metadata rides in the standard metadata extension, which GDAL and QGIS
# understand and do not list as a layer.
METADATA_URI = "urn:gis-service:collection"


def write_metadata(conn: sqlite3.Connection, table: str, document: str) -> None:
    cursor = conn.execute(
        "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata)"
        " VALUES ('dataset', ?, 'application/json', ?)",
        (METADATA_URI, document),
    )
    conn.execute(
        "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id)"
        " VALUES ('table', ?, ?)",
        (table, cursor.lastrowid),
    )


def read_metadata(conn: sqlite3.Connection) -> str:
    (document,) = conn.execute(
        "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? ORDER BY id DESC LIMIT 1",
        (METADATA_URI,),
    ).fetchone()
    return document


def create_core(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    conn.executescript(CORE_DDL)
    conn.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _SRS_4326, "longitude/latitude"),
        ],
    )


def create_feature_table(
    conn: sqlite3.Connection,
    *,
    table: str,
    fid: str,
    geom: str,
    geometry_type: str,
    columns: Iterable[tuple[str, str]],
) -> None:
    """Feature table plus its gpkg_contents and gpkg_geometry_columns rows."""
    defs = [
        f"{quote(fid)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
        f"{quote(geom)} {geometry_type}",
    ]
    defs += [f"{quote(name)} {sql_type}" for name, sql_type in columns]
    conn.execute(f"CREATE TABLE {quote(table)} ({', '.join(defs)})")
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)"
        " VALUES (?, 'features', ?, 4326)",
        (table, table),
    )
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, 4326, 2, 0)",
        (table, geom, geometry_type),
    )


def create_rtree_table(conn: sqlite3.Connection, *, table: str, geom: str) -> str:
    """The R-tree and its extension row; the writer fills it from vectorised bounds."""
    rtree = quote(f"rtree_{table}_{geom}")
    conn.execute(f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index',"
        " 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, geom),
    )
    return rtree


_TRIGGER_SUFFIXES = ("insert", "update1", "update2", "update3", "update4", "delete")


def drop_rtree_triggers(conn: sqlite3.Connection, *, table: str, geom: str) -> None:
    """Bulk appends fill the R-tree themselves; the triggers come back at commit."""
    for suffix in _TRIGGER_SUFFIXES:
        conn.execute(f"DROP TRIGGER IF EXISTS {quote(f'rtree_{table}_{geom}_{suffix}')}")


def create_rtree_triggers(conn: sqlite3.Connection, *, table: str, fid: str, geom: str) -> None:
    """The standard triggers that keep the R-tree current under later edits (QGIS, GDAL)."""
    name = f"rtree_{table}_{geom}"
    rtree, t, i, g = quote(name), quote(table), quote(fid), quote(geom)
    bounds = f"ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})"
    conn.executescript(
        f"""
CREATE TRIGGER {quote(name + "_insert")} AFTER INSERT ON {t}
WHEN (new.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))
BEGIN INSERT OR REPLACE INTO {rtree} VALUES (NEW.{i}, {bounds}); END;
CREATE TRIGGER {quote(name + "_update1")} AFTER UPDATE OF {g} ON {t}
WHEN OLD.{i} = NEW.{i} AND (NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g}))
BEGIN INSERT OR REPLACE INTO {rtree} VALUES (NEW.{i}, {bounds}); END;
CREATE TRIGGER {quote(name + "_update2")} AFTER UPDATE OF {g} ON {t}
WHEN OLD.{i} = NEW.{i} AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))
BEGIN DELETE FROM {rtree} WHERE id = OLD.{i}; END;
CREATE TRIGGER {quote(name + "_update3")} AFTER UPDATE ON {t}
WHEN OLD.{i} != NEW.{i} AND (NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g}))
BEGIN DELETE FROM {rtree} WHERE id = OLD.{i};
INSERT OR REPLACE INTO {rtree} VALUES (NEW.{i}, {bounds}); END;
CREATE TRIGGER {quote(name + "_update4")} AFTER UPDATE ON {t}
WHEN OLD.{i} != NEW.{i} AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))
BEGIN DELETE FROM {rtree} WHERE id IN (OLD.{i}, NEW.{i}); END;
CREATE TRIGGER {quote(name + "_delete")} AFTER DELETE ON {t}
WHEN old.{g} NOT NULL
BEGIN DELETE FROM {rtree} WHERE id = OLD.{i}; END;
"""
    )
