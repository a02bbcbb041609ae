"""The bounds an uploaded raster must keep, taken from the settings at the edges (HTTP
upload, CLI import) and handed down, so this package reads no settings itself."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings


@dataclass(frozen=True)
class RasterLimits:
    max_cells: int = 2_000_000_000  # width x height x bands
    max_bytes: int = 8 * 1024**3  # declared uncompressed size
    max_ratio: float = 500.0  # uncompressed / file size, above BOMB_FLOOR_BYTES
    max_blocks: int = 1_000_000  # tiles or strips

    @classmethod
    def from_settings(cls, settings: Settings) -> RasterLimits:
        return cls(
            max_cells=settings.raster_max_cells,
            max_bytes=settings.raster_max_bytes,
            max_ratio=settings.raster_max_ratio,
            max_blocks=settings.raster_max_blocks,
        )


#: Below this declared size no ratio is too high (a small constant raster compresses
#: to almost nothing and harms no one).
BOMB_FLOOR_BYTES = 256 * 1024**2
