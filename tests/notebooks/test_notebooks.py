"""The analysts' notebooks (notebooks/*.ipynb), run top to bottom against a live demo server.

Each notebook checks its own results in its cells, so a failing cell (an assertion or an
error) fails its test. The server serves a store loaded as `make demo` loads it
(data/load_demo.sh: the three owning entities, bilingual metadata), on each store, so the
notebooks see what an analyst sees on the demo. The kernel is this venv's Python, through a
kernel spec written to a temporary folder: a fresh clone needs no `ipykernel install`.
Figures render with matplotlib-inline, which draws with Agg (no display is needed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from gis_service.domain.access import Role
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import DATA, ROOT, STORES, LiveServer, issue_key

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "gis-service-tests"
#: What the notebooks read from the environment; the developer's own values must not leak in.
NOTEBOOK_ENV = ("GIS_URL", "GIS_KEY", "GIS_OTHER_KEY", "GIS_ENTITY", "GIS_OTHER_ENTITY")
ARABIC = re.compile(r"[\u0600-\u06ff]")


@dataclass
class Demo:
    url: str
    settings: Settings
    publisher_key: str  # an admin key of sha, the publishing entity of the third notebook


@pytest.fixture(scope="module", params=STORES)
def demo(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Demo]:
    """A live server on a store loaded by data/load_demo.sh, as `make demo` serves it."""
    folder = tmp_path_factory.mktemp("notebook-demo")
    if request.param == "geopackage":
        settings = Settings(store=str(folder / "store"))
    else:
        url = request.getfixturevalue("postgis_url")
        settings = Settings(store=url, postgis_schema=f"nb_{uuid.uuid4().hex[:10]}")
    subprocess.run(
        ["bash", str(DATA / "load_demo.sh"), settings.store],
        cwd=folder,
        env={
            **os.environ,
            "GIS_POSTGIS_SCHEMA": settings.postgis_schema,
            "GIS_SERVICE": str(Path(sys.prefix) / "bin" / "gis-service"),
        },
        check=True,
        capture_output=True,
        timeout=300,
    )
    store = open_store(settings)
    try:
        header = issue_key(store, "sha", Role.ADMIN)["Authorization"]
    finally:
        store.close()
    with LiveServer(settings) as server:
        yield Demo(server.url, settings, header.removeprefix("Bearer "))


@pytest.fixture(scope="session")
def kernels(tmp_path_factory) -> Path:
    """A folder holding one kernel spec: this interpreter running ipykernel."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / KERNEL).mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gis-service tests",
        "language": "python",
    }
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return folder


@pytest.fixture(scope="session")
def jupyter_home(tmp_path_factory) -> dict[str, str]:
    """Jupyter's, IPython's and matplotlib's own folders, kept out of the user's home."""
    home = tmp_path_factory.mktemp("jupyter-home")
    names = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
             "MPLCONFIGDIR")  # fmt: skip
    for name in names:
        (home / name.lower()).mkdir()
    return {name: str(home / name.lower()) for name in names}


def kernel_env(demo: Demo, home: dict[str, str]) -> dict[str, str]:
    """The analyst's environment: the server, one key given (the partner's is left to the
    notebook's own fallback, which issues it on the demo store), Agg-based inline figures."""
    env = {k: v for k, v in os.environ.items() if k not in NOTEBOOK_ENV}
    env.update(home)
    env.update(
        GIS_URL=demo.url,
        GIS_KEY=demo.publisher_key,
        GIS_STORE=demo.settings.store,
        GIS_POSTGIS_SCHEMA=demo.settings.postgis_schema,
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    return env


def execute(
    path: Path, demo: Demo, kernels: Path, home: dict[str, str], cwd: Path
) -> nbformat.NotebookNode:
    """The notebook run top to bottom; raises CellExecutionError at the first failing cell."""
    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    client = NotebookClient(
        notebook,
        km=manager,
        kernel_name=KERNEL,
        timeout=120,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env(demo, home))
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_its_checks_pass(
    path: Path, demo: Demo, kernels: Path, jupyter_home: dict[str, str], tmp_path, monkeypatch
):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", jupyter_home["JUPYTER_RUNTIME_DIR"])  # the
    # connection files, written by this process before the kernel starts
    notebook = execute(path, demo, kernels, jupyter_home, tmp_path)
    shown = outputs(notebook)
    assert not [o for o in shown if o.output_type == "error"]
    figures = [o for o in shown if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} draws no map"
    assert list(tmp_path.iterdir()) == [], "a notebook wrote files where it ran"


def test_there_are_the_three_notebooks_at_least():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs_and_is_written_for_its_reader(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs committed"
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert ARABIC.search(first.source), "the title has no Arabic"
    markdown = [c for c in notebook.cells if c.cell_type == "markdown"]
    assert len(markdown) >= len(code) / 2, "steps are not explained"
    source = "\n".join(c.source for c in code)
    assert 'os.environ.get("GIS_URL", "http://127.0.0.1:8000")' in source
    assert re.search(r"^\s*assert ", source, re.M), "the notebook checks nothing"
    assert notebook.metadata.kernelspec.name == "python3"
