"""In Chromium, with anonymous read off: a map page sends the browser to sign in, and after
signing in the page, its scripts and its vector tiles all load on the session cookie."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Response

from gis.settings import Settings
from tests.conftest import LiveServer
from tests.maps.conftest import City, OfflinePage


@pytest.fixture(scope="module")
def closed_city(city: City) -> Iterator[str]:
    """The small city served with anonymous read off; its base URL."""
    with LiveServer(city.url, Settings(database_url=city.url, anonymous_read=False)) as server:
        yield server.base_url


def test_sign_in_then_the_grids_page_loads_its_tiles(
    browser: Browser, city: City, closed_city: str
) -> None:
    offline = OfflinePage(browser, closed_city)
    answers: list[tuple[int, str]] = []
    offline.page.on("response", lambda r: answers.append((r.status, r.url)) if _local(r) else None)
    try:
        page = offline.page
        page.goto(closed_city + "/maps/grids?lang=en", wait_until="networkidle")
        assert "/maps/sign-in?next=" in page.url
        assert page.locator("#wg-sign-in-error").count() == 0

        page.fill("#wg-token", "not-a-token")
        page.click("#wg-sign-in button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.locator("#wg-sign-in-error").is_visible()

        page.fill("#wg-token", city.tokens["viewer"])
        with page.expect_navigation(url="**/maps/grids?lang=en"):
            page.click("#wg-sign-in button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => window.wangge && window.wangge.map")

        tiles = [(status, url) for status, url in answers if "/tiles/grids/" in url]
        assert tiles and all(status == 200 for status, _ in tiles), tiles
        refused = [(s, u) for s, u in answers if s in (401, 403)]
        assert refused == [(401, closed_city + "/maps/sign-in?lang=en")], refused
        # The session cookie is HttpOnly: no script on the page can read the token.
        assert "wangge_session" not in page.evaluate("document.cookie")
        assert offline.outside == []
        assert [e for e in offline.errors if "401" not in e] == []
    finally:
        offline.close()


def _local(response: Response) -> bool:
    return response.url.startswith("http://127.0.0.1")
