"""OGC API Common: landing page, conformance and the API definition."""
