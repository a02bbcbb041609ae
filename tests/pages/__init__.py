"""The HTML pages, in a real browser."""
