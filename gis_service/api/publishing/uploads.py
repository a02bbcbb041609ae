"""Entities publish data over HTTP: the same ingest path as `gis-service import`.

The upload is streamed to a private temporary folder (never held whole in memory), checked
(`ingest.safety`) before GDAL sees it, then imported. A create first claims the id (one
create wins, others get 409 at once: `claims.py`); its access policy is written before the
data becomes visible, so a new collection is never briefly public.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ... import ingest
from ...domain.access import AccessPolicy, Principal, Role, Visibility, can_write
from ...domain.collection import valid_collection_id
from ...errors import Forbidden, IngestError, InvalidParameter, PayloadTooLarge, Unauthorized
from ...ingest import IngestOptions, IngestReport
from ...ingest.safety import check_content, check_text, safe_filename
from ...rasters.limits import RasterLimits
from ...settings import Settings
from ...store.base import Actor, Store
from ..audit.record import note
from ..features.collections import collection_document
from ..plumbing.bodies import parse_model
from ..plumbing.deps import PrincipalDep, Resolved, ResolvedDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.links import JSON, base_url
from .claims import CreateClaim
from .jobs import Progress, job_document, start_job

router = APIRouter(tags=["Sharing"])
CHUNK = 1024 * 1024


class DataForm(BaseModel):
    """Fields beside `file` when replacing or appending data."""

    model_config = ConfigDict(extra="forbid")
    layer: str | None = None
    temporal: str | None = None  # FIELD or START,END
    encoding: str | None = None  # text encoding, for files that do not say (Shapefile, CSV)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("layer", "temporal")
    @classmethod
    def _no_virtual_paths(cls, value: str | None) -> str | None:
        try:
            return None if value is None else check_text(value, "field")
        except IngestError as exc:
            raise ValueError(exc.detail) from None


class UploadForm(DataForm):
    """Fields beside `file` when publishing a new collection."""

    id: str
    title: str | None = None
    title_ar: str | None = None
    description: str | None = None
    keywords: str | None = None  # comma-separated
    license: str | None = None
    attribution: str | None = None
    visibility: Visibility = Visibility.PRIVATE

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not valid_collection_id(value):
            raise ValueError("use letters, digits, '.', '_' and '-' (at most 63)")
        return value


def require_editor(principal: Principal) -> None:
    if principal.entity is None:
        raise Unauthorized("publishing needs an API key (Authorization: Bearer ...)")
    if principal.role not in (Role.ADMIN, Role.EDITOR):
        raise Forbidden("publishing needs an editor or admin key")


def _options(form: UploadForm) -> IngestOptions:
    temporal = None
    if form.temporal:
        parts = [p.strip() for p in form.temporal.split(",")]
        if len(parts) > 2 or not parts[0]:
            raise InvalidParameter("temporal", "FIELD or START,END")
        temporal = (parts[0], parts[1] if len(parts) == 2 else None)
    keywords = [k.strip() for k in form.keywords.split(",") if k.strip()] if form.keywords else None
    return IngestOptions(
        collection_id=form.id,
        title=form.title,
        title_ar=form.title_ar,
        description=form.description,
        keywords=keywords,
        license=form.license,
        attribution=form.attribution,
        layer=form.layer,
        temporal=temporal,
        encoding=form.encoding,
    )


async def read_form(request: Request, settings: Settings) -> tuple[dict[str, str], UploadFile]:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.upload_max_bytes:
        raise PayloadTooLarge(f"uploads are limited to {settings.upload_max_bytes:,} bytes")
    try:
        form = await request.form(max_files=1, max_fields=20)
    except MultiPartException as exc:
        raise InvalidParameter("body", f"not a valid multipart form ({exc.message})") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidParameter("file", "a multipart field 'file' with the data is required")
    fields = {k: v for k, v in form.multi_items() if k != "file" and isinstance(v, str)}
    return fields, upload


def save_upload(upload: UploadFile, folder: Path, settings: Settings) -> Path:
    """Copy the (already spooled) upload into our folder under a harmless name."""
    path = folder / safe_filename(upload.filename)
    written = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > settings.upload_max_bytes:
                raise PayloadTooLarge(f"uploads are limited to {settings.upload_max_bytes:,} bytes")
            out.write(chunk)
    check_content(path, settings.upload_max_expanded_bytes)
    return path


def report_document(report: IngestReport) -> dict[str, Any]:
    return report.document()


async def _ingest(
    request: Request,
    store: Store,
    settings: Settings,
    upload: UploadFile,
    *,
    entity: str,
    collection: str,
    operation: str,
    run: Callable[[Path, Progress | None], IngestReport],
    finish: Callable[[], None] = lambda: None,
    job_id: str | None = None,
) -> Response | IngestReport:
    """Save the upload, then import it now, or as a job (202) when it is large.

    `finish` runs once at the very end (here, or when the job ends)."""
    folder = Path(tempfile.mkdtemp(prefix="gis-upload-"))
    handed_off = False

    def cleanup() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        finish()

    try:
        path = await run_in_threadpool(save_upload, upload, folder, settings)
        if path.stat().st_size <= settings.upload_sync_max_bytes:
            return await run_in_threadpool(run, path, None)
        job = await run_in_threadpool(
            start_job,
            store,
            entity=entity,
            collection=collection,
            operation=operation,
            work=lambda progress: run(path, progress),
            report_json=report_document,
            cleanup=cleanup,
            job_id=job_id,
        )
        handed_off = True
        note(request, collection, f"{operation}-job", 0)
        base = base_url(request, settings)
        return Response(
            dumps(job_document(base, job)),
            status_code=202,
            media_type=JSON,
            headers={"Location": f"{base}/jobs/{job.id}"},
        )
    finally:
        await upload.close()
        if not handed_off:
            with anyio.CancelScope(shield=True):  # a client gone away still frees the id
                await run_in_threadpool(cleanup)


def _with_progress(options: IngestOptions, progress: Progress | None) -> IngestOptions:
    options.on_progress = progress
    return options


@router.post("/collections", status_code=201, summary="Publish a new collection from a file")
async def create_collection(
    request: Request, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    require_editor(principal)
    fields, upload = await read_form(request, settings)
    form = parse_model(UploadForm, fields)
    policy = AccessPolicy(owner=principal.entity, visibility=form.visibility)
    options = _options(form)
    options.raster_limits = RasterLimits.from_settings(settings)
    options.actor = Actor("create", principal.entity, principal.key_id)
    claim = await store.call(CreateClaim.take, store, form.id, policy)  # or 409, at once
    outcome = await _ingest(
        request,
        store,
        settings,
        upload,
        entity=principal.entity or "",
        collection=form.id,
        operation="create",
        run=lambda path, progress: claim.publish(path, _with_progress(options, progress)),
        finish=claim.release,
        job_id=claim.token,
    )
    if isinstance(outcome, Response):
        return outcome
    note(request, form.id, "create", outcome.features_stored)
    info = await store.call(store.get_collection, form.id)
    base = base_url(request, settings)
    body = {
        "collection": collection_document(base, info, policy, html=False),
        "report": report_document(outcome),
    }
    return Response(
        dumps(body),
        status_code=201,
        media_type=JSON,
        headers={"Location": f"{base}/collections/{form.id}"},
    )


async def _new_data(
    request: Request,
    resolved: Resolved,
    principal: Principal,
    store: Store,
    settings: Settings,
    *,
    append: bool,
) -> Response:
    if principal.entity is None:
        raise Unauthorized("changing data needs an API key (Authorization: Bearer ...)")
    if not can_write(principal, resolved.policy):
        raise Forbidden("changing this collection's data needs write access to it")
    fields, upload = await read_form(request, settings)
    form = parse_model(DataForm, fields)
    options = _options(UploadForm(id=resolved.info.id, **form.model_dump()))
    options.append = append
    options.raster_limits = RasterLimits.from_settings(settings)
    operation = "append" if append else "replace"
    options.actor = Actor(operation, principal.entity, principal.key_id)
    outcome = await _ingest(
        request,
        store,
        settings,
        upload,
        entity=principal.entity,
        collection=resolved.info.id,
        operation=operation,
        run=lambda path, progress: ingest.import_file(
            store, path, _with_progress(options, progress)
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    note(request, resolved.info.id, operation, outcome.features_stored)
    info = await store.call(store.get_collection, resolved.info.id)
    body = {
        "collection": collection_document(
            base_url(request, settings), info, resolved.policy, html=False
        ),
        "report": report_document(outcome),
    }
    return Response(dumps(body), media_type=JSON)


@router.put("/collections/{collectionId}/data", summary="Replace the collection's data")
async def replace_data(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return await _new_data(request, resolved, principal, store, settings, append=False)


@router.post("/collections/{collectionId}/data", summary="Append features to the collection")
async def append_data(
    request: Request,
    resolved: ResolvedDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return await _new_data(request, resolved, principal, store, settings, append=True)
