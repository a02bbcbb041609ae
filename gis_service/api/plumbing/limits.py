"""Request bodies read under a ceiling, so no client makes the server wait for or hold more.

A declared Content-Length above the limit is refused before a byte is read (a client that
announces 2 GiB and sends two bytes is answered at once instead of waited for); a chunked
body is refused as soon as what arrived passes the limit. Uploads have their own limit
(`upload_max_bytes`, api/publishing/uploads.py): they are streamed to disk, not read into memory.
"""

from __future__ import annotations

from fastapi import Request

from ...errors import PayloadTooLarge
from ...settings import Settings


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge (413) once it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"this request's body is limited to {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"this request's body is limited to {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def feature_body(request: Request) -> bytes:
    """A feature's body (POST, PUT, PATCH of items): `feature_body_max_bytes`."""
    return await read_body(request, _settings(request).feature_body_max_bytes)


async def sharing_body(request: Request) -> bytes:
    """A small settings body (access, keys): `sharing_body_max_bytes`."""
    return await read_body(request, _settings(request).sharing_body_max_bytes)
