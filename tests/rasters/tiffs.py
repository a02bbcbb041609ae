"""Test rasters: small GeoTIFFs written by rasterio, and hand-made TIFF headers that
declare what no honest file would (for the hostile-upload tests)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

NODATA = -9999.0
ORIGIN = (355000.0, 2810000.0)  # UTM 40N, near Sharjah
CELL = 30.0


def signal_values(width: int = 600, height: int = 400) -> np.ndarray:
    """Two float32 bands: a smooth signal field (dBm) with a nodata corner, and quality."""
    rows, cols = np.mgrid[0:height, 0:width].astype("float64")
    signal = -120.0 + 60.0 * (cols / width) + 10.0 * np.sin(rows / 9.0)
    signal[: height // 5, : width // 6] = NODATA  # the sea
    quality = (rows * width + cols) % 97
    return np.stack([signal, quality]).astype("float32")


def write_signal_tif(path: Path, width: int = 600, height: int = 400, **profile) -> Path:
    """The test raster: UTM 40N, 30 m cells, two named bands with units, nodata."""
    data = signal_values(width, height)
    meta = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=2,
        dtype="float32",
        crs="EPSG:32640",
        transform=from_origin(ORIGIN[0], ORIGIN[1], CELL, CELL),
        nodata=NODATA,
    )
    meta.update(profile)
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(data.astype(meta["dtype"]))
        dst.descriptions = ("signal", "quality")
        dst.units = ("dBm", "percent")
    return path


def write_sparse_tif(path: Path, width: int, height: int, **profile) -> Path:
    """A tiled DEFLATE GeoTIFF whose blocks are never written: tiny on disk, `width` x
    `height` declared (a compression bomb when large)."""
    meta = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(55.0, 26.0, 1e-5, 1e-5),
        tiled=True,
        blockxsize=512,
        blockysize=512,
        compress="deflate",
        SPARSE_OK="TRUE",
    )
    meta.update(profile)
    with rasterio.open(path, "w", **meta):
        pass
    return path


def declared_tiff(width: int, height: int, tile: int) -> bytes:
    """A classic little-endian GeoTIFF header declaring `width` x `height` cells of uint8
    in `tile` x `tile` tiles, with no pixel data at all (offsets point past the end)."""
    across, down = -(-width // tile), -(-height // tile)
    tiles = across * down
    # tag, type, count, the values' bytes (None: an array said to lie at `far`)
    entries: list[tuple[int, int, int, bytes | None]] = []

    def add(tag: int, kind: int, values: list, fmt: str) -> None:
        entries.append((tag, kind, len(values), struct.pack(f"<{len(values)}{fmt}", *values)))

    add(256, 4, [width], "I")
    add(257, 4, [height], "I")
    add(258, 3, [8], "H")
    add(259, 3, [1], "H")
    add(262, 3, [1], "H")
    add(277, 3, [1], "H")
    add(284, 3, [1], "H")
    add(322, 4, [tile], "I")
    add(323, 4, [tile], "I")
    far = 1 << 31
    if tiles <= 4096:
        add(324, 4, [far] * tiles, "I")
        add(325, 4, [1] * tiles, "I")
    else:  # the offset arrays themselves lie past the end: millions declared, none there
        entries.append((324, 4, tiles, None))
        entries.append((325, 4, tiles, None))
    add(339, 3, [1], "H")
    add(33550, 12, [1e-5, 1e-5, 0.0], "d")
    add(33922, 12, [0.0, 0.0, 0.0, 55.0, 26.0, 0.0], "d")
    add(34735, 3, [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326], "H")
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    ifd = struct.pack("<H", len(entries))
    extra = b""
    for tag, kind, count, value in entries:
        if value is None:
            ifd += struct.pack("<HHII", tag, kind, count, far)
        elif len(value) <= 4:
            ifd += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            ifd += struct.pack("<HHII", tag, kind, count, data_at + len(extra))
            extra += value + (b"\x00" if len(value) % 2 else b"")
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + extra
