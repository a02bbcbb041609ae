"""The HTML pages in a real browser (Debian's headless Chromium through Playwright)."""

from __future__ import annotations

import pytest

from ..conftest import watched_page


@pytest.fixture
def page(browser):
    context, page, errors = watched_page(browser)
    page.errors = errors
    yield page
    context.close()


def test_browse_from_landing_to_a_feature(page, live_server):
    page.goto(f"{live_server.url}/", wait_until="load")
    assert page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Collections").first.click()
    page.get_by_role("link", name="Facilities").click()
    page.get_by_role("link", name="Browse the features").click()
    page.wait_for_selector("#map[data-drawn=true] canvas")
    assert page.locator("#map").get_attribute("data-features") == "10"
    rows = page.locator("table tbody tr")
    assert rows.count() == 10
    page.get_by_role("link", name="next →").click()
    page.wait_for_selector("#map[data-drawn=true]")
    assert "cursor=" in page.url
    page.locator("table tbody tr td a").first.click()
    page.wait_for_selector("#map[data-drawn=true]")
    assert page.locator("h1").inner_text().startswith("Feature ")
    assert page.errors == []


def test_arabic_names_render_right_to_left(page, live_server):
    page.goto(f"{live_server.url}/collections/districts/items?f=html&limit=5")
    page.wait_for_selector("#map[data-drawn=true]")
    cell = page.locator("td[dir=auto]", has_text="ال").first
    direction = cell.evaluate("el => getComputedStyle(el).direction")
    assert direction == "rtl"
    assert page.errors == []


def test_api_documentation_loads_without_network(page, live_server):
    page.goto(f"{live_server.url}/api.html")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    assert page.locator(".opblock-tag", has_text="Features").count() >= 1
    assert page.errors == []


def test_search_datasets_then_sort_a_column(page, live_server):
    page.goto(f"{live_server.url}/collections?f=html")
    page.get_by_label("Search").fill("facilities")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**q=facilities**")
    links = page.locator("table tbody tr td:first-child a")
    assert links.all_inner_texts() == ["Facilities"]
    links.first.click()
    page.get_by_role("link", name="Browse the features").click()
    page.get_by_role("link", name="capacity").click()  # ascending
    page.get_by_role("link", name="capacity ▲").click()  # then descending
    page.wait_for_selector("#map[data-drawn=true]")
    assert "sortby=-capacity" in page.url
    heads = page.locator("thead th").all_inner_texts()
    index = next(i for i, h in enumerate(heads) if h.startswith("capacity"))
    values = [
        int(text) for text in page.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True) and len(values) == 10
    assert page.errors == []
