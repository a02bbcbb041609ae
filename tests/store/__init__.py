"""The two stores: parity, outages, the PostGIS load path and role."""
