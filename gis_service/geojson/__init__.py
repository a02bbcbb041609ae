"""GeoJSON writing shared by the API's answers and the downloads."""
