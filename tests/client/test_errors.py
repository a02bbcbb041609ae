"""Server problems as typed exceptions (title and detail from the problem details), on both
stores; transient failures retried with backoff against real sockets; the key kept home.
"""

from __future__ import annotations

import time

import pytest

from gis_service.client import (
    BadRequest,
    Client,
    ClientError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unauthorized,
)
from tests.client.sources import sites
from tests.client.stand_in import items_page, stand_in
from tests.conftest import free_port

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_each_problem_raises_its_type(writable):
    editor = writable.client(writable.editor)
    editor.upload(sites(3), "client-errors")
    cases = [
        (BadRequest, 400, lambda: editor.read("client-errors", filter="rank <")),
        (BadRequest, 400, lambda: editor.read("client-errors", bbox=(1, 2, 3))),
        (Unauthorized, 401, lambda: Client(writable.url, key="gis_x_y").collections()),
        (Forbidden, 403, lambda: writable.client(writable.police).upload(sites(1), "x-1")),
        (NotFound, 404, lambda: editor.read("client-none")),
        (NotFound, 404, lambda: writable.client(writable.police).read("client-errors")),
        (NotFound, 404, lambda: editor.feature("client-errors", 999)),
        (Conflict, 409, lambda: editor.upload(sites(1), "client-errors")),
    ]
    for kind, status, call in cases:
        with pytest.raises(kind) as error:
            call()
        assert error.value.status == status
        assert error.value.title and error.value.detail, error.value
        assert isinstance(error.value, ClientError)
        assert error.value.problem["status"] == status  # the body, kept whole
    stale = editor.feature("client-errors", 1)
    editor.patch(stale, {"rank": 5})
    with pytest.raises(PreconditionFailed) as error:
        editor.patch(stale, {"rank": 6})
    assert error.value.status == 412 and "changed" in error.value.detail
    assert str(error.value).startswith("412 ")


def _flaky(failures: int, retry_after: str | None = None):
    """A script whose items answer 503 (problem details) ``failures`` times, then a page."""
    seen = {"items": 0}

    def script(path: str, query: dict[str, str]):
        if not path.endswith("/items"):
            return 404, {}, {"title": "Not Found", "detail": "no queryables"}
        seen["items"] += 1
        if seen["items"] <= failures:
            headers = {"Retry-After": retry_after} if retry_after else {}
            problem = {"title": "Busy", "status": 503, "detail": "try again shortly"}
            return 503, {"Content-Type": "application/problem+json", **headers}, problem
        return 200, {}, items_page("http://unused", [1, 2], None, numberMatched=2)

    return script


def test_503_twice_then_success_is_retried():
    with stand_in(_flaky(2)) as server:
        started = time.monotonic()
        frame = Client(server.url, retries=3, backoff=0.1, progress=False).read("things")
        elapsed = time.monotonic() - started
        items = [p for p, _q in server.requests if p.endswith("/items")]
    assert list(frame.index) == [1, 2]
    assert len(items) == 3  # two refused, the third answered
    assert elapsed >= 0.1 + 0.2  # exponential backoff between the tries


def test_503_that_persists_raises_after_the_retries():
    with stand_in(_flaky(100)) as server:
        with pytest.raises(ServerError) as error:
            Client(server.url, retries=2, backoff=0.01, progress=False).read("things")
        items = [p for p, _q in server.requests if p.endswith("/items")]
    assert len(items) == 3  # the first try and two retries
    assert (error.value.status, error.value.title, error.value.detail) == (
        503, "Busy", "try again shortly",
    )  # fmt: skip


def test_retry_after_is_honoured():
    with stand_in(_flaky(1, retry_after="1")) as server:
        started = time.monotonic()
        Client(server.url, retries=1, backoff=0.01, progress=False).read("things")
        assert time.monotonic() - started >= 1.0


def test_a_closed_port_raises_connection_failed_after_the_retries():
    url = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens there
    started = time.monotonic()
    with pytest.raises(ConnectionFailed) as error:
        Client(url, retries=2, backoff=0.1, progress=False).collections()
    assert time.monotonic() - started >= 0.1 + 0.2  # it did wait and try again
    assert error.value.status == 0 and url in error.value.detail


def test_the_key_is_not_sent_to_another_origin():
    with stand_in(lambda p, q: (200, {}, items_page("", [3], None))) as other:

        def script(path: str, query: dict[str, str]):
            if not path.endswith("/items"):
                return 404, {}, {"title": "Not Found", "detail": "none"}
            return 200, {}, items_page(f"{other.url}/collections/things", [1, 2], 2)

        with stand_in(script) as home:
            frame = Client(home.url, key="secret-key", progress=False).read("things")
            sent_home = home.authorization
    assert list(frame.index) == [1, 2, 3]  # the next page came from the other server
    assert set(sent_home) == {"Bearer secret-key"}
    assert other.authorization == [None]


def test_a_server_slower_than_the_timeout():
    def script(path: str, query: dict[str, str]):
        time.sleep(0.5)
        return 200, {}, {"collections": []}

    with stand_in(script) as server:
        with pytest.raises(ConnectionFailed) as error:
            Client(server.url, timeout=0.2, retries=1, backoff=0.01).collections()
        assert len(server.requests) == 2  # a GET that timed out is tried again
    assert "Timeout" in error.value.title
