"""ASGI entry point for uvicorn workers: settings come from `GIS_*` environment variables."""

from .app import create_app

app = create_app()
