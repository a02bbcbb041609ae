"""Downloads of a whole selection in common GIS formats, written batch by batch.

`selection` says what a download holds; `text` and `kml` stream GeoJSON, CSV and KML
chunk by chunk; `ogr` (GeoPackage, Shapefile, FlatGeobuf through GDAL) and `parquet`
(GeoParquet) write a temporary file that is then sent. `formats` names them all.
"""
