"""OGC API Features reads: collections, items, CRS, bbox, sorting, paging, search."""
