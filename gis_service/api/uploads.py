"""Entities publish data over HTTP: the same ingest path as `gis-service import`.

The upload is streamed to a private temporary folder (never held whole in memory), checked
(`ingest.safety`) before GDAL sees it, then imported; its access policy is written before
the data becomes visible, so a new collection is never briefly public.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ..domain.access import AccessPolicy, Principal, Role, Visibility, can_write
from ..domain.collection import valid_collection_id
from ..errors import (
    CollectionNotFound,
    Conflict,
    Forbidden,
    IngestError,
    InvalidParameter,
    PayloadTooLarge,
    Unauthorized,
)
from ..ingest import IngestOptions, IngestReport, import_file
from ..ingest.safety import check_content, check_text, safe_filename
from ..settings import Settings
from ..store.base import Store
from .audit import note
from .bodies import parse_model
from .collections import collection_document
from .deps import PrincipalDep, Resolved, ResolvedDep, SettingsDep, StoreDep, call_store
from .encoding import dumps
from .links import JSON, base_url

router = APIRouter(tags=["Sharing"])
CHUNK = 1024 * 1024


class DataForm(BaseModel):
    """Fields beside `file` when replacing or appending data."""

    model_config = ConfigDict(extra="forbid")
    layer: str | None = None
    temporal: str | None = None  # FIELD or START,END

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
    return {
        "features_read": report.features_read,
        "features_stored": report.features_stored,
        "repaired": report.repaired,
        "rejected": report.rejected,
        "rejections": [{"row": r.row, "reason": r.reason} for r in report.rejections],
        "source_crs": report.source_crs,
        "reprojected": report.reprojected,
        "bbox": report.bbox,
        "geometry_type": report.geometry_type,
        "schema": [{"name": p.name, "type": p.type.value} for p in report.properties],
        "seconds": round(report.seconds, 3),
    }


def _publish(
    store: Store, path: Path, options: IngestOptions, policy: AccessPolicy
) -> IngestReport:
    try:
        store.get_collection(options.collection_id)
    except CollectionNotFound:
        pass
    else:
        raise Conflict(f"collection {options.collection_id!r} exists already")
    store.catalog.set_access(options.collection_id, policy)  # before the data is visible
    try:
        return import_file(store, path, options)
    except BaseException:
        store.catalog.forget_access(options.collection_id)
        raise


@router.post("/collections", status_code=201, summary="Publish a new collection from a file")
async def create_collection(
    request: Request, principal: PrincipalDep, store: StoreDep, settings: SettingsDep
) -> Response:
    require_editor(principal)
    fields, upload = await read_form(request, settings)
    form = parse_model(UploadForm, fields)
    folder = Path(tempfile.mkdtemp(prefix="gis-upload-"))
    try:
        path = await run_in_threadpool(save_upload, upload, folder, settings)
        policy = AccessPolicy(owner=principal.entity, visibility=form.visibility)
        report = await run_in_threadpool(_publish, store, path, _options(form), policy)
    finally:
        await upload.close()
        shutil.rmtree(folder, ignore_errors=True)
    note(request, form.id, "create", report.features_stored)
    info = await call_store(store, store.get_collection, form.id)
    base = base_url(request, settings)
    body = {
        "collection": collection_document(base, info, policy, html=False),
        "report": report_document(report),
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
    options = _options(UploadForm(id=resolved.info.id, layer=form.layer, temporal=form.temporal))
    options.append = append
    folder = Path(tempfile.mkdtemp(prefix="gis-upload-"))
    try:
        path = await run_in_threadpool(save_upload, upload, folder, settings)
        report = await run_in_threadpool(import_file, store, path, options)
    finally:
        await upload.close()
        shutil.rmtree(folder, ignore_errors=True)
    note(request, resolved.info.id, "append" if append else "replace", report.features_stored)
    info = await call_store(store, store.get_collection, resolved.info.id)
    body = {
        "collection": collection_document(
            base_url(request, settings), info, resolved.policy, html=False
        ),
        "report": report_document(report),
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
