"""The `gis-service` command: serve, import and list collections."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .errors import ServiceError
from .settings import Settings
from .store.factory import open_store

# The ingest stack (GDAL, pyarrow) is imported only by `import`: uvicorn's worker processes
# re-import this module, and each would otherwise carry it for nothing.

app = typer.Typer(
    help="GIS data-sharing service (OGC API - Features).",
    no_args_is_help=True,
    add_completion=False,
)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="GIS_STORE",
        help="A folder (GeoPackage store, default ./var/store) or a postgresql:// URL.",
    ),
]


def _settings(store: str | None) -> Settings:
    return Settings(store=store) if store else Settings()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    store: StoreOpt = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API with uvicorn (httptools + uvloop)."""
    import os

    import uvicorn

    if store:
        os.environ["GIS_STORE"] = store  # workers are new processes: pass settings by env
    uvicorn.run(
        "gis_service.asgi:app",
        host=host,
        port=port,
        workers=workers,
        http="httptools",
        loop="uvloop",
        log_level="info",
        access_log=False,
        factory=False,
    )


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="Any vector file GDAL reads, or GeoParquet.")],
    collection: Annotated[str, typer.Option("--collection", help="Collection id.")],
    title: Annotated[str | None, typer.Option(help="Human-readable title.")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer source.")] = None,
    temporal: Annotated[
        str | None, typer.Option(help="FIELD or START,END: the properties datetime queries use.")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Import (or atomically replace) a collection from a file."""
    from .ingest import IngestOptions, import_file

    temporal_fields = None
    if temporal:
        parts = [p.strip() for p in temporal.split(",")]
        if len(parts) > 2 or not parts[0]:
            _fail("--temporal takes FIELD or START,END")
        temporal_fields = (parts[0], parts[1] if len(parts) == 2 else None)
    target = open_store(_settings(store))
    try:
        report = import_file(
            target,
            path,
            IngestOptions(
                collection_id=collection,
                title=title,
                description=description,
                layer=layer,
                temporal=temporal_fields,
                progress=sys.stderr.isatty(),
            ),
        )
    except ServiceError as exc:
        _fail(exc.detail)
    finally:
        target.close()
    typer.echo("\n".join(report.lines()))


@app.command("collections")
def list_collections(store: StoreOpt = None) -> None:
    """List the published collections."""
    target = open_store(_settings(store))
    try:
        infos = target.list_collections()
    finally:
        target.close()
    for info in infos:
        typer.echo(f"{info.id}\t{info.feature_count}\t{info.geometry_type}\t{info.title}")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


if __name__ == "__main__":
    app()
