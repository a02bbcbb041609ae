"""Named colour ramps for map tiles and their legends, from rio-tiler's colormap registry
(matplotlib's and cmocean's ramps, `_r` for reversed): one source for the tile's colours
and the legend the web map draws, so the two cannot disagree."""

from __future__ import annotations

from functools import cache

from ..errors import InvalidParameter

Colors = dict[int, tuple[int, int, int, int]]

#: The ramp a single band is drawn with when the request names none.
DEFAULT = "viridis"


@cache
def names() -> tuple[str, ...]:
    """Every ramp offered, sorted."""
    from rio_tiler.colormap import cmap

    return tuple(sorted(cmap.list()))


def check(name: str) -> str:
    """The ramp's name (case-insensitive), or a 400 naming the parameter."""
    wanted = name.lower()
    if wanted not in names():
        shown = ", ".join([n for n in names() if not n.endswith("_r")][:12])
        raise InvalidParameter(
            "colormap",
            f"{name[:40]!r} is not a colormap; try {shown}, ... (any of them +'_r' reversed;"
            " the full list is in the tileset metadata)",
        )
    return wanted


@cache
def colors(name: str) -> Colors:
    """The ramp's 256 RGBA entries, indexed by the rescaled (0-255) value."""
    from rio_tiler.colormap import cmap

    return {int(k): tuple(int(c) for c in v) for k, v in cmap.get(check(name)).items()}  # type: ignore[misc]


def legend(name: str, low: float, high: float, steps: int = 6) -> list[dict[str, object]]:
    """`steps` evenly spaced values from `low` to `high` with the colour each is drawn in."""
    ramp = colors(name)
    out: list[dict[str, object]] = []
    for i in range(steps):
        fraction = i / (steps - 1)
        r, g, b, _a = ramp[round(fraction * 255)]
        value = low + fraction * (high - low)
        out.append({"value": round(value, 6), "color": f"#{r:02x}{g:02x}{b:02x}"})
    return out
