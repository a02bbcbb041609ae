"""Every read and write of a collection is recorded as it is answered.

Handlers say what happened (`note`); one ASGI middleware adds who, when, the request id
and the status once the answer is sent, and events are written in batches so that a read
does not pay for a write of its own.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from datetime import UTC, datetime

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...domain.access import Principal
from ...errors import StoreUnavailable
from ...store.base import Store
from ...store.catalog import AuditEvent

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KEPT_EVENTS = 100_000  # while the database is away: the newest events, for when it is back
RETRY_SECONDS = 5.0


def note(request: Request, collection: str, operation: str, features: int) -> None:
    request.state.audit = (collection, operation, features)


class AuditLog:
    """A per-process buffer of events, flushed every `batch` events or `seconds`."""

    def __init__(self, store: Store, batch: int = 200, seconds: float = 1.0) -> None:
        self.store, self.batch, self.seconds = store, batch, seconds
        self.buffer: list[AuditEvent] = []
        self.flushed = self.retry_at = time.monotonic()

    def add(self, event: AuditEvent) -> None:
        self.buffer.append(event)
        now = time.monotonic()
        if now >= self.retry_at and (
            len(self.buffer) >= self.batch or now - self.flushed > self.seconds
        ):
            self.flush()

    def flush(self) -> None:
        events, self.buffer = self.buffer, []
        self.flushed = time.monotonic()
        try:
            self.store.catalog.record(events)
        except StoreUnavailable:  # kept; not tried again at once (requests would wait)
            self.buffer = (events + self.buffer)[-KEPT_EVENTS:]
            self.retry_at = self.flushed + RETRY_SECONDS


class AuditMiddleware:
    """Gives each request an id (X-Request-Id) and records the audit note it left."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # A random per-process prefix and a counter: unique like uuid4, without a system
        # call for random bytes on every request (3 % of a single-feature read).
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else f"{self.prefix}{next(self.counter):016x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            noted = state.get("audit")
            if noted is not None:
                principal: Principal = state.get("principal") or Principal()
                collection, operation, features = noted
                log: AuditLog = scope["app"].state.audit
                log.add(
                    AuditEvent(
                        time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        request_id=request_id,
                        key_id=principal.key_id,
                        entity=principal.entity,
                        collection=collection,
                        operation=operation,
                        features=features,
                        status=status,
                    )
                )
