"""Benchmark harness for gis-service (not part of the installed package)."""
