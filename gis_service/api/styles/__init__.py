"""OGC API - Styles: a collection's MapLibre styles, read by anyone who sees it."""
