"""The processes offered: each one's description (inputs as JSON Schema) and its run.

`save_as` is an input of every process: the result becomes a new collection of the
caller's (api/processes/saving.py) instead of (or as well as) a GeoJSON answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.collection import COLLECTION_ID
from ..errors import InvalidParameter, NotFound
from ..store.base import Store
from . import aggregate, gaps, nearest, overlay, raster_gaps, raster_values, within, zonal_stats
from .inputs import Source, check_names
from .limits import Budget
from .raster_inputs import RasterSource, RasterSpec
from .results import Result
from .schema import Features, Names, Number, Spec, Text

VERSION = "1.0.0"
Run = Callable[[Store, dict[str, Any], Budget], Result]
SAVE_AS = Text(
    "Save as",
    "Keep the result as a new collection of yours (private) with this id.",
    required=False,
    pattern=COLLECTION_ID.pattern,
)
OUTPUT = {
    "result": {
        "title": "Result features",
        "description": "GeoJSON FeatureCollection in CRS84 (or the saved collection's)",
        "schema": {"type": "object", "contentMediaType": "application/geo+json"},
    }
}


@dataclass(frozen=True)
class Process:
    id: str
    title: str
    description: str
    inputs: dict[str, Spec]
    run: Run
    #: (input naming properties, the feature input they belong to, numeric?)
    names_of: tuple[tuple[str, str, bool], ...] = field(default_factory=tuple)
    #: (input naming bands, the raster input they belong to)
    bands_of: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: what the inputs must satisfy together (a 400 naming the input otherwise)
    rules: Callable[[dict[str, Any]], None] | None = None

    @property
    def feature_inputs(self) -> list[str]:
        return [n for n, s in self.inputs.items() if isinstance(s, Features)]

    @property
    def raster_inputs(self) -> list[str]:
        return [n for n, s in self.inputs.items() if isinstance(s, RasterSpec)]

    def check(self, values: dict[str, Any]) -> None:
        """What the schema cannot say: named properties and bands exist in their input."""
        if self.rules is not None:
            self.rules(values)
        for input_name, features, numeric in self.names_of:
            source: Source = values[features]
            check_names(source, input_name, values[input_name] or [], numeric)
        for input_name, raster_name in self.bands_of:
            raster: RasterSource = values[raster_name]
            given = values[input_name]
            for band in given if isinstance(given, list) else [given] if given else []:
                raster.band(band, input_name)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "version": VERSION,
            "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
            "outputTransmission": ["value"],
        }

    def description_document(self) -> dict[str, Any]:
        inputs = {name: spec.describe() for name, spec in self.inputs.items()}
        return {**self.summary(), "inputs": inputs, "outputs": OUTPUT}


def _features(title: str, description: str) -> Features:
    return Features(title, description + " A collection, optionally filtered, or GeoJSON.")


METRES = "metres (geodesic)"
RASTER = RasterSpec("Raster", "A raster collection: {'collection': id}, optionally a 'version'.")


def _gaps(store: Store, values: dict[str, Any], budget: Budget) -> Result:
    """Coverage polygons, or a raster and its threshold."""
    if values.get("raster") is not None:
        return raster_gaps.run(store, values, budget)
    return gaps.run(store, values, budget)


def _gaps_rules(values: dict[str, Any]) -> None:
    by_raster = values.get("raster") is not None
    if by_raster == (values.get("coverage") is not None):
        raise InvalidParameter("coverage", "give either `coverage` (polygons) or `raster`")
    if by_raster and values.get("threshold") is None:
        raise InvalidParameter("threshold", "is required with `raster`")
    for name in ("threshold", "band"):
        if not by_raster and values.get(name) is not None:
            raise InvalidParameter(name, "applies to `raster` only")


PROCESSES: dict[str, Process] = {
    p.id: p
    for p in [
        Process(
            "nearest",
            "Nearest features",
            "For each feature of `source`, the `k` nearest features of `target`, with the"
            " geodesic distance in metres (optionally only those within `max_distance`).",
            {
                "source": _features("Source", "The features to start from."),
                "target": _features("Target", "The features to find."),
                "k": Number(
                    "Neighbours",
                    "How many per source feature.",
                    False,
                    1,
                    minimum=1,
                    maximum=100,
                    integer=True,
                ),
                "max_distance": Number(
                    "Maximum distance", METRES, False, minimum=0, exclusive=True
                ),
                "save_as": SAVE_AS,
            },
            nearest.run,
        ),
        Process(
            "within-distance",
            "Features within a distance",
            "The features of `target` within `distance` metres (geodesic) of any feature of"
            " `source`, with the distance to the nearest one and its id.",
            {
                "source": _features("Source", "The features measured from."),
                "target": _features("Target", "The features selected."),
                "distance": Number("Distance", METRES, minimum=0, maximum=1e7),
                "save_as": SAVE_AS,
            },
            within.run,
        ),
        Process(
            "join-aggregate",
            "Join and aggregate",
            "For each polygon of `zones`: the number of `features` inside, and the chosen"
            " statistics of the chosen numeric properties of those features.",
            {
                "zones": _features("Zones", "Polygons (e.g. districts)."),
                "features": _features("Features", "What is counted (e.g. facilities)."),
                "properties": Names("Properties", "Numeric properties of `features`.", False, []),
                "statistics": Names(
                    "Statistics",
                    "Of each property.",
                    False,
                    list(aggregate.STATISTICS),
                    choices=aggregate.STATISTICS,
                ),
                "save_as": SAVE_AS,
            },
            aggregate.run,
            (("properties", "features", True),),
        ),
        Process(
            "coverage-gaps",
            "Coverage gaps",
            "The features of `features` not covered: by no polygon of `coverage` (filter it,"
            " e.g. technology = '5G'), each with the geodesic distance in metres to the"
            " nearest covered area; or, with `raster` and `threshold`, where the band is"
            " below the threshold or has no value (e.g. signal under -90 dBm), each with the"
            " band's value there and the geodesic distance to the centre of the nearest"
            " covered cell (searched on a grid of at most 2,048 cells a side: the run's"
            " `search_cell_m`). Lines and polygons are judged at a representative point.",
            {
                "features": _features("Features", "What should be covered."),
                "coverage": Features(
                    "Coverage",
                    "The covering polygons (or give `raster`): a collection, optionally"
                    " filtered, or GeoJSON.",
                    False,
                ),
                "raster": RasterSpec(
                    "Raster",
                    "A raster collection ({'collection': id}, optionally a 'version') whose"
                    " band says where there is coverage (or give `coverage`).",
                    required=False,
                ),
                "threshold": Number(
                    "Threshold", "With `raster`: covered where the band is at or above it.", False
                ),
                "band": Text("Band", "With `raster`: a band name or number; the first.", False),
                "save_as": SAVE_AS,
            },
            _gaps,
            bands_of=(("band", "raster"),),
            rules=_gaps_rules,
        ),
        Process(
            "raster-values",
            "Raster values at points",
            "The value of each band of `raster` at each feature of `points` (a line or"
            " polygon: at a representative point), null on nodata and off the raster.",
            {
                "raster": RASTER,
                "points": _features("Points", "Where the raster is read."),
                "bands": Names("Bands", "Band names or numbers; all by default.", False, []),
                "save_as": SAVE_AS,
            },
            raster_values.run,
            bands_of=(("bands", "raster"),),
        ),
        Process(
            "zonal-stats",
            "Zonal statistics",
            "For each polygon of `zones`: the mean, min and max of a band of `raster` and the"
            " count of its valid cells, each cell weighted by the part of it the polygon"
            " covers; with `threshold`, the shares of the polygon's valid area at or above"
            " it (share_above) and below it (share_below), from 0 to 1.",
            {
                "raster": RASTER,
                "zones": _features("Zones", "Polygons (e.g. districts)."),
                "band": Text("Band", "A band name or number; the first by default.", False),
                "threshold": Number("Threshold", "In the band's unit (e.g. -90 dBm).", False),
                "save_as": SAVE_AS,
            },
            zonal_stats.run,
            bands_of=(("band", "raster"),),
        ),
        Process(
            "buffer",
            "Buffer",
            "Each feature grown by `distance` metres, with the buffer's geodesic area (m²).",
            {
                "features": _features("Features", "What is buffered."),
                "distance": Number("Distance", METRES, minimum=0, maximum=1e6, exclusive=True),
                "save_as": SAVE_AS,
            },
            overlay.buffer,
        ),
        Process(
            "intersection",
            "Intersection",
            "The overlay of two inputs: for each pair of intersecting features, their common"
            " part with both features' properties and its geodesic area (m²).",
            {
                "input": _features("Input", "The first features."),
                "overlay": _features("Overlay", "The features laid over them."),
                "save_as": SAVE_AS,
            },
            overlay.intersection,
        ),
    ]
}


def get_process(process_id: str) -> Process:
    process = PROCESSES.get(process_id)
    if process is None:
        raise NotFound(f"process {process_id!r} does not exist")
    return process
