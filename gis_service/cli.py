"""The `gis-service` command: serve, import and list collections."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .domain.access import ENTITY_ID, AccessPolicy, Entity, Role, Visibility, new_key, split_token
from .errors import ServiceError
from .settings import Settings
from .store.base import Store
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
    path: Annotated[
        Path, typer.Argument(help="Any vector file GDAL reads, GeoParquet, or a GeoTIFF.")
    ],
    collection: Annotated[str, typer.Option("--collection", help="Collection id.")],
    title: Annotated[str | None, typer.Option(help="Human-readable title.")] = None,
    title_ar: Annotated[str | None, typer.Option("--title-ar", help="Arabic title.")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    keywords: Annotated[
        str | None, typer.Option(help="Comma-separated keywords (any language).")
    ] = None,
    license: Annotated[
        str | None, typer.Option("--license", help="Licence, e.g. CC-BY-4.0.")
    ] = None,
    attribution: Annotated[str | None, typer.Option(help="Attribution to show.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer source.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding when the file does not say (e.g. cp1256).")
    ] = None,
    temporal: Annotated[
        str | None, typer.Option(help="FIELD or START,END: the properties datetime queries use.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Owning entity id (see `entities add`).")
    ] = None,
    visibility: Annotated[
        Visibility | None,
        typer.Option(help="Who may see it; default private with an owner, else public."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Import (or atomically replace) a collection from a file."""
    from .ingest import IngestOptions, import_file
    from .rasters.limits import RasterLimits

    temporal_fields = _temporal(temporal)
    settings = _settings(store)
    target = open_store(settings)
    if owner is not None and target.catalog.get_entity(owner) is None:
        target.close()
        _fail(f"--owner: no entity {owner!r} (create it with `gis-service entities add`)")
    previous = target.catalog.access_map().get(collection)
    if owner is not None or visibility is not None:  # in force before the data is visible
        default = Visibility.PRIVATE if owner else Visibility.PUBLIC
        target.catalog.set_access(
            collection, AccessPolicy(owner=owner, visibility=visibility or default)
        )
    try:
        report = import_file(
            target,
            path,
            IngestOptions(
                collection_id=collection,
                title=title,
                title_ar=title_ar,
                description=description,
                keywords=_keywords(keywords),
                license=license,
                attribution=attribution,
                layer=layer,
                encoding=encoding,
                temporal=temporal_fields,
                progress=sys.stderr.isatty(),
                raster_limits=RasterLimits.from_settings(settings),
            ),
        )
    except ServiceError as exc:
        if previous is not None:
            target.catalog.set_access(collection, previous)
        elif owner is not None or visibility is not None:
            target.catalog.forget_access(collection)
        _fail(exc.detail)
    finally:
        target.close()
    typer.echo("\n".join(report.lines()))


def _temporal(text: str | None) -> tuple[str, str | None] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 2 or not parts[0]:
        _fail("--temporal takes FIELD or START,END")
    return parts[0], parts[1] if len(parts) == 2 else None


def _keywords(text: str | None) -> list[str] | None:
    """Comma-separated, as the upload form's `keywords` field."""
    return [k.strip() for k in text.split(",") if k.strip()] if text else None


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


entities_app = typer.Typer(
    help="Entities (organisations) that own and share data.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="API keys: issued to an entity with a role, stored only as a hash.", no_args_is_help=True
)
app.add_typer(entities_app, name="entities")
app.add_typer(keys_app, name="keys")


@entities_app.command("add")
def entities_add(
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="Short id, e.g. 'sha'.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name.")],
    name_ar: Annotated[str, typer.Option("--name-ar", help="Arabic name.")],
    store: StoreOpt = None,
) -> None:
    """Create an entity."""
    if not ENTITY_ID.match(entity_id):
        _fail(f"entity id {entity_id!r}: use lower-case letters, digits, '-' and '_'")
    with _store(store) as target:
        try:
            target.catalog.add_entity(Entity(id=entity_id, name_en=name_en, name_ar=name_ar))
        except ServiceError as exc:
            _fail(exc.detail)


@entities_app.command("list")
def entities_list(store: StoreOpt = None) -> None:
    """List the entities."""
    with _store(store) as target:
        for entity in target.catalog.list_entities():
            typer.echo(f"{entity.id}\t{entity.name_en}\t{entity.name_ar}")


@keys_app.command("issue")
def keys_issue(
    entity_id: Annotated[str, typer.Argument(metavar="ENTITY")],
    role: Annotated[Role, typer.Option(help="The key's role in its entity.")],
    store: StoreOpt = None,
) -> None:
    """Issue a key; prints the key alone (it is shown this once)."""
    with _store(store) as target:
        if target.catalog.get_entity(entity_id) is None:
            _fail(f"no entity {entity_id!r}")
        key = new_key()
        target.catalog.add_key(
            key_id=key.key_id, entity=entity_id, role=role, secret_hash=key.secret_hash
        )
    typer.echo(key.token)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The id inside gis_<id>_...")],
    store: StoreOpt = None,
) -> None:
    """Revoke a key at once."""
    key_id = split[0] if (split := split_token(key_id)) else key_id
    with _store(store) as target:
        if not target.catalog.revoke_key(key_id):
            _fail(f"no active key {key_id!r}")


versions_app = typer.Typer(
    help="Versions of collections: every write keeps one; retention prunes old ones.",
    no_args_is_help=True,
)
app.add_typer(versions_app, name="versions")


@versions_app.command("prune")
def versions_prune(
    store: StoreOpt = None,
    keep_days: Annotated[
        float | None,
        typer.Option("--keep-days", min=0, help="Keep versions younger than this (days)."),
    ] = None,
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, help="Keep at least the newest this many.")
    ] = None,
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
) -> None:
    """Remove old versions' data now (as the server does every GIS_VERSIONS_PRUNE_INTERVAL_S):
    never the current version, the newest few, young ones, or any a download or a live
    cursor reads. Defaults: GIS_VERSIONS_KEEP_DAYS and GIS_VERSIONS_KEEP."""
    from .store import retention

    settings = _settings(store)
    policy = retention.RetentionPolicy(
        settings.versions_keep_days if keep_days is None else keep_days,
        settings.versions_keep if keep is None else keep,
    )
    with _store(store) as target:
        pruned = retention.prune(target, policy, collection=collection)
    for item in pruned:
        typer.echo(f"{item.collection}\tversion {item.version}\t{item.bytes} bytes")
    freed = sum(item.bytes for item in pruned)
    typer.echo(f"pruned {len(pruned)} version(s), {freed} bytes freed")


@contextmanager
def _store(store: str | None) -> Iterator[Store]:
    target = open_store(_settings(store))
    try:
        yield target
    finally:
        target.close()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


if __name__ == "__main__":
    app()
