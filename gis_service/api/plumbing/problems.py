"""Every error becomes an RFC 9457 problem+json answer, here and nowhere else.

A browser (`f=html`, or an Accept header preferring text/html) gets the same problem as
an HTML page in the site's layout instead; the choice is made here, once, so that errors
raised in dependencies and validation are answered the same way as those of handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...errors import ServiceError, status_for
from .encoding import dumps
from .html.errors import error_page
from .negotiation import Format, negotiate

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem_headers(status: int, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The error's own headers (Allow on a 405, Retry-After, ...) and a 401's challenge."""
    out = dict(headers or {})
    if status == 401:
        out.setdefault("WWW-Authenticate", 'Bearer realm="gis-service"')
    return out


def problem(
    status: int,
    title: str,
    detail: str,
    instance: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return Response(
        dumps(body),
        status_code=status,
        media_type=PROBLEM,
        headers=problem_headers(status, headers),
    )


def wants_html(request: Request) -> bool:
    """The request's own negotiation; an invalid `f` (the error itself) leaves Accept to say."""
    try:
        return negotiate(request) is Format.HTML
    except ServiceError:
        without_query = Request({**request.scope, "query_string": b""})
        return negotiate(without_query) is Format.HTML


def answer(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> Response:
    """A problem as problem+json, or as an HTML page for a browser."""
    if wants_html(request):
        try:
            parameter = extra.get("parameter")
            page = error_page(request, status, title, detail, parameter=parameter)
        except Exception:  # never let the error page hide the error
            log.exception("the error page failed on %s", request.url.path)
        else:
            page.headers.update(problem_headers(status, headers))
            return page
    return problem(status, title, detail, request.url.path, headers, **extra)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        headers = getattr(exc, "headers", None)
        return answer(request, status_for(exc), exc.title, exc.detail, headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else _phrase(exc.status_code)
        return answer(request, exc.status_code, title, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return answer(
            request,
            400,
            "Invalid request",
            f"{where}: {first.get('msg', 'invalid')}",
            parameter=where,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return answer(request, 500, "Internal error", "the server failed; the error was logged")
