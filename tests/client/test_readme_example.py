"""README's "Python client" block, executed as written against a live server (both stores).

The shell blocks run in tests/project; this one is Python, so it runs here: only the
address and the key (the README's `key=None`, then an editor's key for its upload) are
substituted, and what it made is checked.
"""

from __future__ import annotations

import re

import matplotlib
import pytest

from tests.client.sources import source_frame
from tests.conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def readme_python() -> str:
    section = (ROOT / "README.md").read_text().split("### Python client", 1)[1]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    assert blocks, "README's Python client section has no python block"
    return blocks[0]


def test_readme_python_block_runs(writable):
    code = readme_python()
    assert 'Client("http://127.0.0.1:8000", key=None)' in code
    code = code.replace("http://127.0.0.1:8000", writable.url).replace(
        "key=None", f"key={writable.editor!r}"
    )
    matplotlib.use("Agg")  # plot() draws off screen
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    facilities = source_frame("facilities")
    clinics = namespace["clinics"]
    assert clinics.crs.to_string() == "EPSG:32640"
    assert sorted(clinics.index) == sorted(facilities[facilities.category == "clinic"].index)
    assert len(namespace["schools"]) == len(source_frame("districts"))
    c = namespace["c"]
    mine = c.collections().loc["my-clinics"]
    assert (mine.title_ar, mine.features) == ("العيادات", len(clinics))
    assert list(c.read("my-clinics")["name_ar"]) == list(clinics["name_ar"])
