"""Fixtures of the desk tests: a private copy of the demo city served over HTTP, tokens of
every role and of two units' staff, and desk pages in headless Chromium that may reach
127.0.0.1 only, signed in with the session cookie and holding a token to act with."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import text

from api.auth import SESSION_COOKIE
from gis.db import make_engine, session_scope
from gis.tokens import create_token
from tests.conftest import LiveServer, role_tokens
from tests.incidents.conftest import City

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BEIJING = ZoneInfo("Asia/Shanghai")
# The browser's own zone is far from Beijing, so a time shown in it would differ.
BROWSER_ZONE = "America/New_York"
_ids = itertools.count(1)


@dataclass
class DeskCity(City):
    """A private demo city served for the desk; ``grid_point`` as the incident tests'
    (each test takes its own offsets so that no two tests' cases are similar)."""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def unit_token(self, unit_code: str) -> str:
        with session_scope(self.engine) as session:
            plain, _ = create_token(session, "unit", f"staff-{unit_code}", unit_code=unit_code)
        return plain

    def post(self, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            r = http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 201), r.text
        result: dict[str, Any] = r.json()
        return result

    def get(self, token: str, path: str, **params: Any) -> dict[str, Any]:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            r = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def new_incident(self, offset: int, category: str = "noise", **extra: Any) -> dict[str, Any]:
        """A report taken in over the API at a point inside the grid at ``offset``."""
        _, lon, lat = self.grid_point(offset)
        body = {
            "external_id": f"desk-{next(_ids):05d}",
            "channel": "hotline_call",
            "category_code": category,
            "description": "楼下烧烤店油烟噪声扰民",
            "lon": lon,
            "lat": lat,
            "crs": "cgcs2000",
            "reporter_name": "王五",
            "reporter_phone": "13700001111",
            **extra,
        }
        return self.post(self.tokens["dispatcher"], "/api/v1/incidents", body)

    def events(self, incident_id: int) -> list[tuple[str, str | None, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT kind, detail->>'step', unit_code FROM incident_events"
                    " WHERE incident_id = :i ORDER BY id"
                ),
                {"i": incident_id},
            )
            return [(r[0], r[1], r[2]) for r in rows]


@pytest.fixture(scope="session")
def desk_city(demo_copy: Callable[[], str]) -> Iterator[DeskCity]:
    gc.collect()  # the demo loader's pooled connections must be gone to copy the template
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    tokens = role_tokens(url, "desk")
    server = LiveServer(url).start()
    city = DeskCity(url, engine, server, tokens)
    tokens["ecology"] = city.unit_token("ecology")
    tokens["urban"] = city.unit_token("urban")
    yield city
    server.stop()
    engine.dispose()


class DeskPage:
    """One browser on /desk: signed in with ``token`` (the session cookie) and, unless
    ``typed`` is False, holding it as the token to act with. Requests outside 127.0.0.1
    are refused and recorded, as are script errors and failed loads."""

    def __init__(
        self, browser: Browser, city: DeskCity, token: str | None, typed: bool = True
    ) -> None:
        self.city = city
        self.context = browser.new_context(
            viewport={"width": 1600, "height": 1000}, timezone_id=BROWSER_ZONE, locale="zh-CN"
        )
        if token is not None:
            # Signed in through the sign-in form: the session cookie names the token.
            signed_in = self.context.request.post(
                f"{city.base_url}/maps/sign-in",
                form={"token": token, "next": "/desk"},
                max_redirects=0,
            )
            assert signed_in.status == 303, signed_in.text()
            assert any(c["name"] == SESSION_COOKIE for c in self.context.cookies())
        if token is not None and typed:
            self.context.add_init_script(
                f"window.sessionStorage.setItem('wangge-token', {token!r})"
            )
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"{m.text} {m.location.get('url', '')}")
                if m.type == "error"
                else None
            ),
        )

    def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort("blockedbyclient")

    def open(self, query: str = "") -> Page:
        response = self.page.goto(f"{self.city.base_url}/desk{query}")
        assert response is not None and response.status == 200
        self.page.wait_for_function("() => window.wangge && window.wangge.loaded.desk")
        return self.page

    def tab(self, status: str) -> None:
        self.page.click(f"#dk-tab-{status}")
        self.page.wait_for_selector(f"#dk-list[data-tab='{status}']", state="attached")

    def show(self, incident_id: int) -> None:
        """Open a case by typing its number in the queue's search box, and wait until
        the answer to that very request is drawn (not an earlier one of the same case)."""
        self.page.fill("#dk-f-search", f"#{incident_id}")
        self.page.press("#dk-f-search", "Enter")
        self.page.wait_for_function(
            "() => { const c = document.getElementById('dk-card');"
            " return c.dataset.asked && c.dataset.answered === c.dataset.asked; }"
        )
        self.card_is(incident_id)

    def card_is(self, incident_id: int, status: str | None = None) -> None:
        cond = f"c.dataset.id === '{incident_id}'"
        if status:
            cond += f" && c.dataset.status === '{status}'"
        self.page.wait_for_function(
            f"() => {{ const c = document.getElementById('dk-card'); return {cond}; }}"
        )

    def steps(self) -> list[str]:
        """The steps the card offers, by their codes."""
        return list(
            self.page.eval_on_selector_all(
                "#dk-actions button[data-step]", "bs => bs.map(b => b.dataset.step)"
            )
        )

    def take(self, step: str, **fields: str) -> None:
        """Click a step, fill its form (note, unit, handler, days, rating) and confirm."""
        self.page.click(f"#dk-actions button[data-step='{step}']")
        self.page.wait_for_selector(f"#dk-step-form[data-step='{step}']:not([hidden])")
        for name, value in fields.items():
            selector = f"#dk-step-{name}"
            if name in ("unit", "rating"):
                self.page.select_option(selector, value)
            else:
                self.page.fill(selector, value)
        self.page.click("#dk-step-go")

    def message(self, part: str) -> str:
        """The desk's message once it says ``part`` (the page answers asynchronously)."""
        self.page.wait_for_function(
            "part => { const m = document.getElementById('dk-message');"
            " return !m.hidden && m.textContent.includes(part); }",
            arg=part,
        )
        return self.page.inner_text("#dk-message")

    def shot(self, name: str) -> Path:
        """Screenshot once the map has stopped moving and fades have ended."""
        self.page.wait_for_function("() => !window.wangge.map._animatingZoom")
        self.page.wait_for_timeout(400)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def desk(browser: Browser, desk_city: DeskCity) -> Iterator[Callable[..., DeskPage]]:
    """Factory of desk pages, each its own browser context, closed after the test."""
    opened: list[DeskPage] = []

    def make(token: str | None, typed: bool = True) -> DeskPage:
        page = DeskPage(browser, desk_city, token, typed)
        opened.append(page)
        return page

    yield make
    for page in opened:
        page.close()


def beijing(iso: str, long: bool = True) -> str:
    """A time as the desk shows it: Beijing time, ``YYYY-MM-DD HH:MM``."""
    at = datetime.fromisoformat(iso).astimezone(BEIJING)
    return at.strftime("%Y-%m-%d %H:%M" if long else "%m-%d %H:%M")
