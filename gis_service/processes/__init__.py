"""Spatial analysis (OGC API - Processes): the processes, their inputs and results. No HTTP.

Each process reads its collection inputs through the store's streams (a filter and a
bounding box pushed down to the store's indexes, only the columns it needs kept), works
on Shapely 2 arrays (STRtree, vectorised predicates), and measures on the ellipsoid
(pyproj's Geod) or in an equal-area projection, never in degrees.
"""
