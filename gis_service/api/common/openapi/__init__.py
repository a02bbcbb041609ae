"""The OpenAPI 3.0 document, built from its parts."""
