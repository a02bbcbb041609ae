"""Downloads in every format, and the GeoJSON geometry writer they share with the API."""
