"""One checked execution request: the process, its values (feature inputs prepared)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...domain.access import Principal
from ...processes.inputs import Source
from ...processes.limits import Budget
from ...processes.raster_inputs import RasterSource
from ...processes.registry import Process
from ...settings import Settings


@dataclass
class Run:
    """One checked execution request: the process, its values (sources prepared)."""

    process: Process
    values: dict[str, Any]
    principal: Principal
    settings: Settings

    @property
    def sources(self) -> list[Source]:
        return [v for n in self.process.feature_inputs if (v := self.values[n]) is not None]

    def inputs_record(self) -> dict[str, Any]:
        """What the job and a saved version record of the inputs."""
        out: dict[str, Any] = {}
        for name, value in self.values.items():
            known = isinstance(value, Source | RasterSource)
            out[name] = value.provenance() if known else value
        return out

    def budget(self, progress: Callable[[int], None] | None = None) -> Budget:
        s = self.settings
        return Budget(s.process_timeout_s, s.process_max_features, progress)
