"""The HTTP layer: parse and validate parameters, call the domain and store, format answers."""
