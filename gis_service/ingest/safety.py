"""Checks on untrusted uploads before GDAL opens them.

GDAL reads almost anything, including paths inside archives and on the network
(`/vsicurl/`, `/vsizip/`...), and its XML readers resolve entities: so names are reduced to
a plain file name with a known suffix, archives are inspected entry by entry, KML with a
DOCTYPE is refused, and the first bytes must match what the suffix claims.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..domain.raster import TIFF_MAGIC
from ..errors import IngestError

SUFFIXES = (
    ".geojson",
    ".json",
    ".gpkg",
    ".zip",
    ".csv",
    ".kml",
    ".kmz",
    ".fgb",
    ".parquet",
    ".geoparquet",
    ".tif",
    ".tiff",
)
MAX_ENTRIES = 1000
MAX_RATIO = 200  # uncompressed / compressed, beyond which an archive is a bomb
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_text(value: str, field: str) -> str:
    """Any user-given string that may reach GDAL: no virtual file systems, no NULs."""
    if "/vsi" in value.lower() or "\\vsi" in value.lower() or "\x00" in value:
        raise IngestError(f"{field}: GDAL virtual paths are not accepted")
    return value


def safe_filename(name: str | None) -> str:
    """The upload's own name, reduced to a harmless base name with a known suffix."""
    if not name:
        raise IngestError("file: the upload has no file name (its suffix says its format)")
    check_text(name, "file")
    base = PureWindowsPath(PurePosixPath(name).name).name
    lowered = base.lower()
    suffix = next((s for s in SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        raise IngestError(f"file: {base!r} is not one of {', '.join(SUFFIXES)}")
    stem = _SAFE.sub("_", base[: -len(suffix)]).strip("._") or "upload"
    return f"{stem[:80]}{suffix}"


_MAGIC = {
    ".gpkg": (b"SQLite format 3\x00",),
    ".zip": (b"PK\x03\x04",),
    ".kmz": (b"PK\x03\x04",),
    ".parquet": (b"PAR1",),
    ".geoparquet": (b"PAR1",),
    ".fgb": (b"fgb\x03",),
    ".tif": TIFF_MAGIC,
    ".tiff": TIFF_MAGIC,
}


def check_content(path: Path, total_limit: int) -> None:
    """The bytes must be what the name says; archives and KML get a closer look."""
    suffix = path.suffix.lower()
    head = path.open("rb").read(4096)
    if not head:
        raise IngestError("file: the upload is empty")
    magic = _MAGIC.get(suffix)
    if magic and not head.startswith(magic):
        raise IngestError(f"file: the content is not a {suffix[1:]} file")
    if suffix in (".geojson", ".json") and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise IngestError("file: the content is not GeoJSON")
    if suffix in (".csv", ".kml", ".geojson", ".json") and b"\x00" in head:
        raise IngestError("file: a text format with binary content")
    if suffix == ".kml":
        _check_kml(path.read_bytes())
    if suffix in (".zip", ".kmz"):
        _check_archive(path, total_limit)


def _check_kml(content: bytes) -> None:
    lowered = content[:1_000_000].lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise IngestError("file: KML with a DOCTYPE or entity declarations is not accepted")


def _check_archive(path: Path, total_limit: int) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise IngestError(f"file: a broken or truncated archive ({exc})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise IngestError(f"file: the archive has {len(entries)} entries (limit {MAX_ENTRIES})")
        total = 0
        for entry in entries:
            name = entry.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                raise IngestError(f"file: archive entry {name!r} points outside the archive")
            check_text(name, "file")
            total += entry.file_size
            if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
                raise IngestError(f"file: archive entry {name!r} expands {MAX_RATIO}x or more")
            if name.lower().endswith(".kml"):
                _check_kml(archive.read(entry)[:1_000_000])
        if total > total_limit:
            raise IngestError(
                f"file: the archive expands to {total:,} bytes (limit {total_limit:,})"
            )
