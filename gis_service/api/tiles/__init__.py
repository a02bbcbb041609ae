"""OGC API - Tiles: tile matrix sets, tilesets (per collection and of the whole dataset),
TileJSON, and the vector tiles themselves."""
