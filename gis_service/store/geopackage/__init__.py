"""The embedded store: one GeoPackage file per collection, no server."""
