"""The catalog's styles: the MapLibre styles a collection's owner saved, by style id.

A collection without a saved `default` style has the computed one (gis_service.styles);
a save replaces the row in one statement, so a reader sees the old style or the new.
"""

from __future__ import annotations

from datetime import UTC, datetime

STYLES_DDL = [
    "CREATE TABLE IF NOT EXISTS {p}styles (collection TEXT NOT NULL, style TEXT NOT NULL,"
    " document TEXT NOT NULL, entity TEXT, updated TEXT NOT NULL,"
    " PRIMARY KEY (collection, style))",
]


class StylesCatalog:
    """Mixed into Catalog, which supplies `_all` and `_do`."""

    def _do(self, template: str, params: tuple = ()) -> int: ...  # pragma: no cover
    def _all(self, template: str, params: tuple = ()) -> list[tuple]: ...  # pragma: no cover

    def put_style(
        self, collection_id: str, style_id: str, document: str, entity: str | None
    ) -> bool:
        """Save a style's JSON text; True when it is new."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        existed = self.get_style(collection_id, style_id) is not None
        self._do(
            "INSERT INTO {p}styles VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection, style)"
            " DO UPDATE SET document = excluded.document, entity = excluded.entity,"
            " updated = excluded.updated",
            (collection_id, style_id, document, entity, now),
        )
        return not existed

    def get_style(self, collection_id: str, style_id: str) -> str | None:
        rows = self._all(
            "SELECT document FROM {p}styles WHERE collection = ? AND style = ?",
            (collection_id, style_id),
        )
        return rows[0][0] if rows else None

    def style_ids(self, collection_id: str) -> list[str]:
        rows = self._all(
            "SELECT style FROM {p}styles WHERE collection = ? ORDER BY style", (collection_id,)
        )
        return [r[0] for r in rows]

    def delete_style(self, collection_id: str, style_id: str) -> bool:
        return (
            self._do(
                "DELETE FROM {p}styles WHERE collection = ? AND style = ?",
                (collection_id, style_id),
            )
            > 0
        )

    def forget_styles(self, collection_id: str) -> None:
        self._do("DELETE FROM {p}styles WHERE collection = ?", (collection_id,))
