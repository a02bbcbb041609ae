"""Typed domain errors and their single mapping to RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the service answers deliberately; carries no HTTP itself."""

    title = "Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidParameter(ServiceError):
    """A request parameter is malformed or out of range; names the parameter."""

    title = "Invalid parameter"

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}", parameter=parameter)
        self.parameter = parameter


class UnknownParameter(InvalidParameter):
    """A query parameter the API definition does not declare (OGC /req/core/query-param-unknown)."""

    title = "Unknown parameter"


class NotFound(ServiceError):
    title = "Not found"


class CollectionNotFound(NotFound):
    def __init__(self, collection_id: str) -> None:
        super().__init__(f"collection {collection_id!r} does not exist")


class NotACoverage(NotFound):
    """Coverage paths of a collection of features (or features paths of a raster)."""

    def __init__(self, collection_id: str, *, features: bool = False) -> None:
        if features:
            detail = (
                f"collection {collection_id!r} is a raster: it has no features;"
                f" read it at /collections/{collection_id}/coverage"
            )
        else:
            detail = f"collection {collection_id!r} holds features, not a coverage"
        super().__init__(detail)


class FeatureNotFound(NotFound):
    def __init__(self, collection_id: str, feature_id: str) -> None:
        super().__init__(f"feature {feature_id!r} does not exist in collection {collection_id!r}")


class Unauthorized(ServiceError):
    """Credentials were given but are not valid (a missing key is simply anonymous)."""

    title = "Unauthorized"


class Forbidden(ServiceError):
    """The caller may see the resource but not do this to it."""

    title = "Forbidden"


class Conflict(ServiceError):
    title = "Conflict"


class PreconditionFailed(ServiceError):
    """If-Match named a state the resource is no longer in: someone else changed it."""

    title = "Precondition failed"


class PreconditionRequired(ServiceError):
    """A write that could overwrite another's must say which state it expects (If-Match)."""

    title = "Precondition required"


class PayloadTooLarge(ServiceError):
    title = "Payload too large"


class VersionNotFound(NotFound):
    def __init__(self, collection_id: str, version: int | str) -> None:
        super().__init__(f"collection {collection_id!r} has no version {version}")


class VersionGone(ServiceError):
    """A version that existed was pruned (retention): its record is kept, its data is not."""

    title = "Version pruned"

    def __init__(self, collection_id: str, version: int, *, first: str | None = None) -> None:
        detail = f"version {version} of collection {collection_id!r} was pruned"
        extra: dict[str, Any] = {"version": version}
        if first is not None:  # a cursor pinned to it: its pages are gone
            detail += "; the pages you were following belong to it: start again from the first"
            extra["first"] = first
        super().__init__(detail, **extra)


class NotAcceptable(ServiceError):
    title = "Not acceptable"


class IngestError(ServiceError):
    """The input file cannot be read or stored; nothing was written."""

    title = "Unreadable input"


class QueryTimeout(ServiceError):
    """A query ran past the statement timeout: too expensive to answer now."""

    title = "Query too expensive"

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(
            f"the query ran longer than {timeout_ms} ms and was stopped;"
            " narrow it (a smaller bbox, a more selective filter) and try again"
        )


class Busy(ServiceError):
    """The service runs as many of this kind of request as it can afford; try again soon."""

    title = "Busy"


class WriterBusy(Busy):
    """Another writer of the collection held its turn past this request's deadline."""

    def __init__(self, collection_id: str, retry_after: int = 1) -> None:
        super().__init__(
            f"another change to collection {collection_id!r} kept this one waiting too long;"
            " try again in a moment"
        )
        self.headers = {"Retry-After": str(retry_after)}


class StoreUnavailable(ServiceError):
    """The database cannot be reached now (stopped, restarting, out of connections).

    Answered at once rather than after waiting for it: the same request a few seconds
    later may well succeed, and `headers` says when to try (Retry-After).
    """

    title = "Store unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class StoreError(ServiceError):
    """The store cannot be opened or is misconfigured."""

    title = "Store error"


class ProcessLimit(ServiceError):
    """A process run passed its time or memory bound and was stopped; nothing was kept."""

    title = "Process limit exceeded"


class JobFailed(ServiceError):
    """The results of a job that failed: the job's own error, as the standard asks."""

    title = "Job failed"


class ResultsNotReady(NotFound):
    """A job's results asked for before it finished (OGC: `result-not-ready`)."""

    title = "Results not ready"


STATUS_CODES: dict[type[ServiceError], int] = {
    InvalidParameter: 400,
    UnknownParameter: 400,
    IngestError: 400,
    NotFound: 404,
    CollectionNotFound: 404,
    FeatureNotFound: 404,
    NotACoverage: 404,
    NotAcceptable: 406,
    VersionGone: 410,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    PayloadTooLarge: 413,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    QueryTimeout: 503,
    Busy: 503,
    WriterBusy: 503,
    StoreUnavailable: 503,
    StoreError: 500,
    ProcessLimit: 503,
    JobFailed: 500,
}


def status_for(error: ServiceError) -> int:
    """The HTTP status of an error: the nearest class in its MRO that has one."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500
