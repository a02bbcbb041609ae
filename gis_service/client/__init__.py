"""The analysts' Python client: OGC API – Features to GeoDataFrames, over HTTP only."""

from gis_service.client.api import Client
from gis_service.client.editing import Feature
from gis_service.client.errors import (
    BadRequest,
    ClientError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Gone,
    Incomplete,
    JobFailed,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServerError,
    Unauthorized,
)

__all__ = [
    "BadRequest", "Client", "ClientError", "Conflict", "ConnectionFailed", "Feature",
    "Forbidden", "Gone", "Incomplete", "JobFailed", "NotFound", "PreconditionFailed",
    "PreconditionRequired", "ServerError", "Unauthorized",
]  # fmt: skip
