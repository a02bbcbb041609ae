"""The HTTP session: the key as a header, retries with backoff, problems as exceptions."""

from __future__ import annotations

import time
from typing import Any

import httpx

from gis_service.client.errors import ClientError, ConnectionFailed, error_for

RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_RETRY_AFTER_S = 30.0  # a server asking for longer is not waited on silently


class Http:
    """One ``httpx.Client`` with the base URL and key; retries what is worth retrying.

    503 (and 502/504) and connection failures are transient on a busy server, so they are
    retried with exponential backoff (or the server's ``Retry-After``); any other error
    status raises at once, typed. A broken connection is retried only for idempotent
    methods: a POST may have been carried out. The key goes only to the server's own
    origin, never to a host a ``next`` link points elsewhere.
    """

    def __init__(self, url: str, key: str | None, timeout: float, retries: int, backoff: float):
        self.base = url.rstrip("/")
        self.origin = httpx.URL(self.base).copy_with(path="/", query=None, fragment=None)
        self.auth = {"Authorization": f"Bearer {key}"} if key else {}
        self.retries, self.backoff = max(0, retries), backoff
        self.session = httpx.Client(
            base_url=self.base,
            headers={"Accept": "application/json"},
            timeout=timeout,
            follow_redirects=True,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying transient failures; raise a typed error for any other problem."""
        headers = {**self._auth_for(path), **(kwargs.pop("headers", None) or {})}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            _rewind(kwargs.get("files"))
            try:
                answer = self.session.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if last or (sent and method.upper() not in IDEMPOTENT):
                    where = f"{self.base}{path}" if path.startswith("/") else path
                    raise ConnectionFailed(
                        0, type(exc).__name__, f"{method} {where}: {exc}", {}
                    ) from exc
                self._sleep(attempt, None)
                continue
            if answer.status_code in RETRY_STATUSES and not last:
                answer.close()
                self._sleep(attempt, answer.headers.get("Retry-After"))
                continue
            if answer.status_code >= 400:
                raise problem_of(answer)
            return answer
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful answer."""
        return self.request(method, path, **kwargs).json()

    def _auth_for(self, path: str) -> dict[str, str]:
        """The key's header when ``path`` is on the server's origin (relative paths are)."""
        if not self.auth or "://" not in path:
            return self.auth
        url = httpx.URL(path)
        same = (url.scheme, url.host, url.port) == (
            self.origin.scheme, self.origin.host, self.origin.port,
        )  # fmt: skip
        return self.auth if same else {}

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER_S))
        time.sleep(delay)

    def close(self) -> None:
        self.session.close()


def _rewind(files: Any) -> None:
    """Put uploaded files back at their start, so a retry sends the whole file again."""
    for spec in (files or {}).values():
        handle = spec[1] if isinstance(spec, tuple) else spec
        if hasattr(handle, "seek"):
            handle.seek(0)


def problem_of(answer: httpx.Response) -> ClientError:
    """The typed exception for an error answer, from its problem details when it has them."""
    try:
        body = answer.json()
    except ValueError:
        body = {"title": answer.reason_phrase, "detail": answer.text[:500]}
    if not isinstance(body, dict):
        body = {"title": answer.reason_phrase, "detail": str(body)[:500]}
    if "detail" not in body and "description" in body:  # OGC API's own exception shape
        body = {**body, "title": body.get("code"), "detail": body["description"]}
    body.setdefault("title", answer.reason_phrase)
    return error_for(answer.status_code, body)
