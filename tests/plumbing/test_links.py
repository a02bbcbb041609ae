"""Links carry the request's query exactly as urllib would encode it."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from gis_service.api.plumbing.links import with_params


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6))
def test_with_params_encodes_as_urlencode(params: dict[str, str]) -> None:
    expected = f"http://h/c?{urlencode(params)}" if params else "http://h/c"
    assert with_params("http://h/c", params) == expected
    assert with_params("http://h/c", params) == expected  # again, from the quoting memory
