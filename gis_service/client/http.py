"""The HTTP session: the key as a header, retries with backoff, problems as exceptions."""

from __future__ import annotations

import time
from typing import Any

import httpx

from gis_service.client.errors import ClientError, error_for

RETRY_STATUSES = frozenset({502, 503, 504})


class Http:
    """One ``httpx.Client`` with the base URL and key; retries what is worth retrying.

    503 (and 502/504) and connection errors are transient on a busy server, so they are
    retried with exponential backoff; any other error status raises at once, typed.
    """

    def __init__(self, url: str, key: str | None, timeout: float, retries: int, backoff: float):
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.base = url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        self.session = httpx.Client(
            base_url=self.base, headers=headers, timeout=timeout, follow_redirects=True
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying transient failures; raise a typed error for any other problem."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                answer = self.session.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                if last:
                    raise
                self._sleep(attempt)
                continue
            if answer.status_code in RETRY_STATUSES and not last:
                self._sleep(attempt)
                continue
            if answer.status_code >= 400:
                raise problem_of(answer)
            return answer
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful answer."""
        return self.request(method, path, **kwargs).json()

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff * (2**attempt))

    def close(self) -> None:
        self.session.close()


def problem_of(answer: httpx.Response) -> ClientError:
    """The typed exception for an error answer, from its problem details when it has them."""
    try:
        body = answer.json()
    except ValueError:
        body = {"title": answer.reason_phrase, "detail": answer.text[:500]}
    if not isinstance(body, dict):
        body = {"title": answer.reason_phrase, "detail": str(body)[:500]}
    return error_for(answer.status_code, body)
