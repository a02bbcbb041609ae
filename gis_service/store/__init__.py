"""The storage seam: the `Store` contract (`base`) and what both stores share.

Each store is a package of its own (`geopackage`, `postgis`); `factory` is the one module
that imports them, so everything above the store depends on the contract alone.
"""
