"""The PostGIS store: many stateless API workers on one database."""
