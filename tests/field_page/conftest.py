"""Fixtures of the grid worker's page tests: a private copy of the demo city served over
HTTP, tokens of the staff roles and of grid workers, and /field/ in headless Chromium on a
phone-sized screen, signed in with the session cookie and holding its token on the phone
(localStorage), with the service worker allowed."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FilePayload,
    Page,
    Request,
    ViewportSize,
)

from api.auth import SESSION_COOKIE
from gis.db import make_engine
from tests.conftest import LiveServer, role_tokens
from tests.field.conftest import FieldCity

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
TOKEN_KEY = "wangge-field-token"


@dataclass
class PageCity(FieldCity):
    """A private demo city served for the field page, with the grid worker tests' helpers
    (reports, steps, grid workers' tokens by grid offset)."""

    @property
    def base_url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="session")
def page_city(demo_copy: Callable[[], str]) -> Iterator[PageCity]:
    gc.collect()  # the demo loader's pooled connections must be gone to copy the template
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    tokens = role_tokens(url, "field")
    server = LiveServer(url).start()
    yield PageCity(url, engine, server, tokens)
    server.stop()
    engine.dispose()


class FieldPage:
    """One phone on /field/: its own browser context (so its own service worker, caches and
    IndexedDB), signed in with ``token`` and holding it on the phone. Requests leaving
    127.0.0.1 (the page's or the service worker's) and script errors are recorded."""

    def __init__(
        self,
        browser: Browser,
        city: PageCity,
        token: str | None,
        kept: bool = True,
        geolocation: tuple[float, float] | None = None,
    ) -> None:
        self.city = city
        options: dict[str, Any] = {
            "viewport": PHONE,
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            "service_workers": "allow",
        }
        if geolocation is not None:
            options["geolocation"] = {"longitude": geolocation[0], "latitude": geolocation[1]}
            options["permissions"] = ["geolocation"]
        self.context: BrowserContext = browser.new_context(**options)
        if token is not None:
            signed_in = self.context.request.post(
                f"{city.base_url}/maps/sign-in",
                form={"token": token, "next": "/field/"},
                max_redirects=0,
            )
            assert signed_in.status == 303, signed_in.text()
            assert any(c["name"] == SESSION_COOKIE for c in self.context.cookies())
            if kept:
                self.context.add_init_script(
                    f"window.localStorage.setItem({TOKEN_KEY!r}, {token!r})"
                )
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", self._request)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused request (4xx) and one made with the network cut are logged by the
        # browser itself; both are expected here. Anything else is a fault of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _request(self, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("blob", "data") and url.hostname != "127.0.0.1":
            self.outside.append(request.url)

    def open(self, query: str = "", ready: bool = True) -> Page:
        self.page.goto(f"{self.city.base_url}/field/{query}")
        if ready:
            self.page.wait_for_function(
                "() => window.wangge && window.wangge.loaded.field === true"
            )
        return self.page

    def service_worker_ready(self) -> None:
        self.page.wait_for_function("() => window.wangge.loaded.sw === true")
        self.page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    def tab(self, name: str) -> None:
        self.page.click(f"#fd-tabs button[data-tab='{name}']")
        self.page.wait_for_selector(f"#fd-panel-{name}:not([hidden])")

    def outbox_count(self) -> int:
        return int(self.page.get_attribute("#fd-outbox", "data-count") or "0")

    def message(self, part: str) -> str:
        self.page.wait_for_function(
            "part => { const m = document.getElementById('fd-message');"
            " return !m.hidden && m.textContent.includes(part); }",
            arg=part,
        )
        return self.page.inner_text("#fd-message")

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
def phone(browser: Browser, page_city: PageCity) -> Iterator[Callable[..., FieldPage]]:
    """Factory of phones on /field/, each its own browser context, closed after the test."""
    opened: list[FieldPage] = []

    def make(token: str | None, **options: Any) -> FieldPage:
        page = FieldPage(browser, page_city, token, **options)
        opened.append(page)
        return page

    yield make
    for page in opened:
        page.close()


def jpeg_with_gps(colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A small JPEG photo carrying EXIF with a GPS position and a camera name."""
    image = Image.new("RGB", (320, 240), colour)
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (36.0, 37.0, 12.5)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (101.0, 46.0, 40.0)  # GPSLongitudeRef, GPSLongitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    data = out.getvalue()
    assert b"Exif" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def photo_file(name: str, data: bytes) -> FilePayload:
    """A file as a phone's camera input hands it to the page."""
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def has_exif(data: bytes) -> bool:
    """Whether image bytes carry EXIF (an APP1 Exif segment, or any EXIF tag Pillow reads)."""
    image = Image.open(io.BytesIO(data))
    return b"Exif\x00\x00" in data or len(image.getexif()) > 0 or "exif" in image.info
