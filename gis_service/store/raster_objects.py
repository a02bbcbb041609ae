"""The raster collections' COGs in S3-compatible object storage (GIS_RASTER_DIR=s3://...).

For many API workers on many machines: none needs a shared file system, and GDAL reads
the COGs in place (`/vsis3/`, ranged GETs of the blocks a request touches). A COG is
written locally under the system's temporary folder, then uploaded (boto3's managed
upload: an object appears only when complete, so the catalog never names a partial one)
and recorded after. Objects are never overwritten: a version's location is a fresh
random name. Credentials come from the usual AWS chain (environment, shared files,
instance roles), which GDAL reads too; the endpoint of a non-AWS service
(GIS_S3_ENDPOINT_URL, e.g. MinIO's) is told to both.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import StoreError
from .raster_files import ORPHAN_AFTER_S, is_raster_location, new_location

STAGING = "gis-service-raster-staging"


class ObjectRasterFiles:
    """COGs under `s3://bucket/prefix/`, one object per version."""

    def __init__(self, url: str, endpoint_url: str | None = None, region: str | None = None):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StoreError(f"GIS_RASTER_DIR {url!r}: expected s3://bucket/prefix")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region
            )
        return self._client

    def _key(self, location: str) -> str:
        if not is_raster_location(location):
            raise StoreError("a raster location the server did not make")
        return f"{self.prefix}/{location}" if self.prefix else location

    def path(self, location: str) -> str:
        return f"/vsis3/{self.bucket}/{self._key(location)}"

    def gdal_env(self) -> dict[str, str]:
        """GDAL's names for the endpoint boto3 is given (AWS itself needs none)."""
        env: dict[str, str] = {}
        if self.region:
            env["AWS_REGION"] = self.region
        if self.endpoint_url:
            endpoint = urlsplit(self.endpoint_url)
            env["AWS_S3_ENDPOINT"] = endpoint.netloc + endpoint.path.rstrip("/")
            env["AWS_HTTPS"] = "YES" if endpoint.scheme == "https" else "NO"
            env["AWS_VIRTUAL_HOSTING"] = "FALSE"  # path-style, as MinIO and others serve
        return env

    def staged(self) -> Path:
        folder = Path(tempfile.gettempdir()) / STAGING
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}.tif.part"

    def place(self, staged: Path, collection_id: str) -> str:
        location = new_location(collection_id)
        try:
            self.client.upload_file(str(staged), self.bucket, self._key(location))
        finally:
            staged.unlink(missing_ok=True)
        return location

    def link(self, location: str, collection_id: str) -> str:
        """A restored version's own object: a server-side copy."""
        new = new_location(collection_id)
        source = {"Bucket": self.bucket, "Key": self._key(location)}
        self.client.copy(source, self.bucket, self._key(new))
        return new

    def remove(self, location: str) -> int:
        size = self.size(location)
        if size is None:
            return 0
        self.client.delete_object(Bucket=self.bucket, Key=self._key(location))
        return size

    def size(self, location: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(location))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    def sweep(self, recorded: set[str], now: float | None = None) -> list[str]:
        """Remove unrecorded objects (and local staged files) older than ORPHAN_AFTER_S."""
        cutoff = (now or time.time()) - ORPHAN_AFTER_S
        removed: list[str] = []
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start
        )
        for page in pages:
            for item in page.get("Contents", []):
                location = item["Key"][len(start) :]
                old = item["LastModified"].timestamp() < cutoff
                if old and is_raster_location(location) and location not in recorded:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                    removed.append(item["Key"])
        for path in (Path(tempfile.gettempdir()) / STAGING).glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(str(path))
            except FileNotFoundError:
                continue
        return removed
