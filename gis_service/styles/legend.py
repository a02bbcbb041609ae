"""A style's legend, read from its layers' colours: one entry per colour a reader sees.

Colour by a category (`match`), by classes (`step`) and ramps (`interpolate`) give an entry
per value, class or stop; a plain colour one entry. Labels are the values themselves (a
category's Arabic text is data, shown as it is), so `label_ar` is only set where a class
boundary is written out.
"""

from __future__ import annotations

from typing import Any

KINDS = {"fill": "fill", "line": "line", "circle": "circle", "heatmap": "fill"}
_COLOUR_OF = {"fill": "fill-color", "line": "line-color", "circle": "circle-color"}


def legend(style: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for layer in style.get("layers", []):
        prop = _COLOUR_OF.get(layer.get("type", ""))
        colour = (layer.get("paint") or {}).get(prop) if prop else None
        if colour is None:
            continue
        for entry in _entries(colour, KINDS[layer["type"]]):
            key = (entry["label"], entry["color"])
            if key not in seen:  # a polygon's fill and outline say the same
                seen.add(key)
                entries.append(entry)
    return entries


def label_property(style: dict[str, Any]) -> str | None:
    """The property a symbol layer's `text-field` shows (`["get", name]` or "{name}")."""
    for layer in style.get("layers", []):
        field = (layer.get("layout") or {}).get("text-field")
        if isinstance(field, list) and len(field) == 2 and field[0] == "get":
            return str(field[1])
        if isinstance(field, str) and field.startswith("{") and field.endswith("}"):
            return field[1:-1]
    return None


def _entry(label: str | None, colour: Any, kind: str, label_ar: str | None = None) -> dict:
    return {"label": label, "label_ar": label_ar, "color": colour, "kind": kind}


def _entries(colour: Any, kind: str) -> list[dict[str, Any]]:
    if isinstance(colour, str):
        return [_entry(None, colour, kind)]
    if not isinstance(colour, list) or not colour:
        return []
    op = colour[0]
    if not isinstance(op, str):
        return []
    if op == "match" and len(colour) >= 4:
        pairs = colour[2:-1]
        out = [
            _entry(", ".join(map(str, v)) if isinstance(v, list) else str(v), c, kind)
            for v, c in zip(pairs[::2], pairs[1::2], strict=False)
            if isinstance(c, str)
        ]
        if isinstance(colour[-1], str):
            out.append(_entry("other", colour[-1], kind, "غير ذلك"))
        return out
    if op == "step" and len(colour) >= 3:
        return _classes(colour[2], colour[3:], kind)
    if op.startswith("interpolate") and len(colour) >= 5:
        stops = colour[3:]
        return [
            _entry(str(v), c, kind)
            for v, c in zip(stops[::2], stops[1::2], strict=False)
            if isinstance(c, str)
        ]
    return []


def _classes(first: Any, rest: list[Any], kind: str) -> list[dict[str, Any]]:
    """`step`: below the first threshold, then from each threshold to the next."""
    bounds = rest[::2]
    colours = [first, *rest[1::2]]
    if len(bounds) < len(colours) - 1 or not bounds:
        return [_entry(None, first, kind)] if isinstance(first, str) else []
    out = []
    for i, c in enumerate(colours):
        if not isinstance(c, str):
            continue
        if i == 0:
            label, label_ar = f"< {bounds[0]}", f"أقل من {bounds[0]}"
        elif i == len(bounds):
            label, label_ar = f"≥ {bounds[-1]}", f"{bounds[-1]} فأكثر"
        else:
            low, high = bounds[i - 1], bounds[i]
            label, label_ar = f"{low} – {high}", f"من {low} إلى {high}"
        out.append(_entry(label, c, kind, label_ar))
    return out
