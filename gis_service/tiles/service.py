"""Tiles as the HTTP layer asks for them: keyed, cached, rendered in a worker thread."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from anyio import to_thread

from ..domain.collection import CollectionInfo
from ..store.base import Store
from .cache import TileCache, etag_of
from .encode import encode
from .grids import MAX_ZOOM, Grid
from .index import IndexCache
from .render import MAX_FEATURES, Renderer, TileSpec


@dataclass(frozen=True)
class Tile:
    body: bytes  # b"": no feature (204)
    etag: str


class TileService:
    def __init__(self, store: Store, cache_bytes: int, index_features: int) -> None:
        self.renderer = Renderer(store, IndexCache(index_features))
        self.cache = TileCache(cache_bytes)

    @staticmethod
    def key(infos: list[CollectionInfo], spec: TileSpec, params: Hashable) -> Hashable:
        """What a tile is a pure function of: each layer's collection and generation, the
        tile, and the request's own parameters (filter, datetime, properties...)."""
        layers = tuple((info.id, info.version, info.updated) for info in infos)
        return (layers, spec.grid.id, spec.z, spec.row, spec.col, params)

    def etag(self, key: Hashable) -> str:
        return etag_of(key)

    def cached(self, key: Hashable) -> Tile | None:
        """The rendered tile with its ETag, when kept: a hit is one dict lookup."""
        return self.cache.get(key)

    async def tile(self, infos: list[CollectionInfo], spec: TileSpec, key: Hashable) -> Tile:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        body = await to_thread.run_sync(self._render, infos, spec)
        tile = Tile(body, etag_of(key))
        self.cache.put(key, tile, len(body))
        return tile

    async def generalised(self, info: CollectionInfo, grid: Grid) -> list[int]:
        """The tile matrices where some tile holds more than a tile may (from the index)."""
        index = await to_thread.run_sync(self.renderer.index, info, grid)
        return index.crowded(MAX_FEATURES, MAX_ZOOM)

    def _render(self, infos: list[CollectionInfo], spec: TileSpec) -> bytes:
        return encode([self.renderer.layer(info, spec).layer for info in infos])
