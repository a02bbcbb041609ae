"""HTML pages for people: server-rendered, no external CDN (the network may be closed)."""
