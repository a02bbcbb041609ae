"""A new collection's id, held by the one create that may publish it.

The claim is one catalog INSERT that fails while another create holds the id, taken before
the upload is saved: every other create answers 409 at once. The holder then checks that
no collection has the id (one imported by the CLI has no access row, so the access table
cannot tell), writes its access policy before any data is visible, and imports with
`create_only`, so the write path itself refuses (under the writer lock) to replace a
collection that appeared meanwhile. A failed create puts back the access row it replaced,
only while the row is still its own, and gives back only its own claim. A heartbeat keeps
the claim alive; the claim of a create whose process died is taken over once it is stale.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from ... import ingest
from ...domain.access import AccessPolicy
from ...errors import CollectionNotFound, Conflict
from ...ingest import IngestOptions, IngestReport
from ...store.base import Store
from .jobs import Heartbeat, stale_before


class CreateClaim:
    def __init__(self, store: Store, collection_id: str, policy: AccessPolicy) -> None:
        self.store, self.collection_id, self.policy = store, collection_id, policy
        self.token = uuid.uuid4().hex  # also the id of the job that imports, if one does
        self._heartbeat: Heartbeat | None = None

    @classmethod
    def take(cls, store: Store, collection_id: str, policy: AccessPolicy) -> CreateClaim:
        """The id, or Conflict: another create holds it, or a collection has it."""
        claim = cls(store, collection_id, policy)
        if not store.catalog.claim(
            collection_id, claim.token, policy.owner, stale_before=stale_before()
        ):
            raise Conflict(f"collection {collection_id!r} is being created by another request")
        try:
            exists = claim._exists()
        except BaseException:
            claim.release()
            raise
        if exists:
            claim.release()
            raise Conflict(f"collection {collection_id!r} exists already")
        beat = Heartbeat(claim._touch, name=f"claim-{collection_id[:20]}")
        claim._heartbeat = beat.start()
        return claim

    def _exists(self) -> bool:
        try:
            self.store.get_collection(self.collection_id)
        except CollectionNotFound:
            return False
        return True

    def _touch(self) -> None:
        self.store.catalog.touch_claim(self.collection_id, self.token)

    def publish(self, path: Path, options: IngestOptions) -> IngestReport:
        """Import as the new collection, its policy in force before its data is visible."""
        catalog = self.store.catalog
        options.create_only = True
        previous = catalog.access_text(self.collection_id)  # a policy left by no collection
        catalog.set_access(self.collection_id, self.policy)
        try:
            return ingest.import_file(self.store, path, options)
        except BaseException:
            # A collection published meanwhile by someone else keeps the row it has: only
            # a row of no collection goes back (never one making published data public).
            if previous is not None or not self._exists():
                catalog.restore_access(self.collection_id, self.policy, previous)
            raise

    def release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.store.catalog.release_claim(self.collection_id, self.token)
