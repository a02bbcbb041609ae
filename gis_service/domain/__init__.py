"""The domain: collections, queries and values; no HTTP and no SQL here."""
