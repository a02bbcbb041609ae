"""OGC API Features Parts 1-3: collections, items, queryables, downloads."""
