"""Typed exceptions for server problems (RFC 9457 problem details).

Analysts catch ``NotFound`` or ``BadRequest`` rather than parsing status codes; every
exception carries the problem's ``title`` and ``detail`` so the message says what went wrong.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error the client raises for a server answer."""

    def __init__(self, status: int, title: str, detail: str, problem: dict[str, Any]):
        self.status, self.title, self.detail, self.problem = status, title, detail, problem
        super().__init__(f"{status} {title}: {detail}".strip(": "))


class BadRequest(ClientError):
    """400: a parameter or body the server refused (``detail`` names it)."""


class Unauthorized(ClientError):
    """401: a malformed, unknown or revoked key."""


class Forbidden(ClientError):
    """403: the key may read but not do this."""


class NotFound(ClientError):
    """404: no such collection or feature, or one the caller may not see."""


class Conflict(ClientError):
    """409: e.g. another create claimed the id first."""


class Gone(ClientError):
    """410: a pruned version or an expired cursor."""


class PreconditionFailed(ClientError):
    """412: the feature changed since its ETag was read (a stale ``If-Match``)."""


class PreconditionRequired(ClientError):
    """428: an edit sent without ``If-Match``."""


class ServerError(ClientError):
    """5xx after the retries ran out."""


class JobFailed(ClientError):
    """A background job (upload or process) ended in failure."""


class Incomplete(ClientError):
    """A read got a different number of features than the server said it matched.

    Raised rather than returning a short (or padded) frame: a read is all of the selection
    or an error. A write between the count and the pages can cause it; read again, or pin
    ``version=``.
    """


class ConnectionFailed(ClientError):
    """The server could not be reached (or the connection broke) after the retries."""


_BY_STATUS: dict[int, type[ClientError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    412: PreconditionFailed,
    428: PreconditionRequired,
}


def error_for(status: int, problem: dict[str, Any]) -> ClientError:
    """The typed exception for an answer's status and problem body."""
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ClientError)
    title = str(problem.get("title") or "")
    detail = str(problem.get("detail") or "")
    return kind(status, title, detail, problem)
