"""OGC API Common: landing page, conformance, the API definition."""
