"""The analysts' Python client: OGC API – Features to GeoDataFrames, over HTTP only."""

from gis_service.client.api import Client
from gis_service.client.editing import Feature
from gis_service.client.errors import (
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    Gone,
    JobFailed,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServerError,
    Unauthorized,
)

__all__ = [
    "BadRequest", "Client", "ClientError", "Conflict", "Feature", "Forbidden", "Gone",
    "JobFailed", "NotFound", "PreconditionFailed", "PreconditionRequired", "ServerError",
    "Unauthorized",
]  # fmt: skip
