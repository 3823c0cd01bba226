"""The field page's shell: sign-in, the web app manifest, the icons, the service worker and
its versioned cache, in headless Chromium on a phone-sized screen."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

import httpx
from PIL import Image

from api.routers.field_page import SHELL, shell_version
from gis.settings import Settings
from tests.field_page.conftest import PHONE, FieldPage, PageCity


def test_page_and_its_public_shell_files(page_city: PageCity) -> None:
    # Anonymous reading is on here; without it the page sends the browser to sign in
    # (tests/security/test_roles.py), while the manifest, icons and worker stay public.
    with httpx.Client(base_url=page_city.base_url, timeout=30) as http:
        bare = http.get("/field?lang=en&gcj02")
        assert bare.status_code == 307 and bare.headers["location"] == "/field/?lang=en&gcj02"
        en = http.get("/field/?lang=en")
        assert en.status_code == 200 and '<html lang="en">' in en.text
        assert http.get("/field/?lang=fr").status_code == 422
        manifest = http.get("/field/manifest.webmanifest")
        sw = http.get("/field/sw.js")
        icons = [http.get(f"/field/icon-{n}.png") for n in (192, 512)]
        missing = http.get("/field/icon-100.png")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = json.loads(manifest.text)
    assert body["name"] == "网格员"
    assert body["start_url"] == "/field/" and body["scope"] == "/field/"
    assert body["display"] == "standalone"
    assert [(i["sizes"], i["type"]) for i in body["icons"]] == [
        ("192x192", "image/png"),
        ("512x512", "image/png"),
    ]
    for icon, size in zip(icons, (192, 512), strict=True):
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(icon.content))
        assert image.size == (size, size) and image.format == "PNG"
        # Red ground with white grid lines: both colours are there.
        colours = {c for _, c in image.getcolors(maxcolors=10) or []}
        assert colours == {(0x8B, 0, 0), (255, 255, 255)}
    assert missing.status_code == 404 and "size" in missing.text
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/field/"
    version = shell_version(Settings(database_url=page_city.url))
    assert f'"{version}"' in sw.text
    assert json.loads(re.search(r"var SHELL = (\[.*?\]);", sw.text).group(1)) == SHELL  # type: ignore[union-attr]


def test_shell_installs_and_opens_offline(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    # A dispatcher's token opens the page (signed in) but is no grid worker's.
    p = phone(page_city.tokens["dispatcher"], kept=False)
    page = p.open(ready=False)
    assert page.viewport_size == PHONE
    page.wait_for_function("() => window.wangge.loaded.field === 'sign-in'")
    assert page.is_visible("#fd-sign-in") and page.is_hidden("#fd-main")
    p.service_worker_ready()
    manifest = page.evaluate(
        "() => fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["name"] == "网格员"
    names = page.evaluate("() => caches.keys()")
    version = page.evaluate("() => window.wangge.version")
    assert f"field-shell-{version}" in names
    cached = page.evaluate(
        "v => caches.open('field-shell-' + v).then(c => c.keys())"
        ".then(ks => ks.map(k => new URL(k.url).pathname + new URL(k.url).search))",
        version,
    )
    assert sorted(cached) == sorted(SHELL)
    # Typing a token that is no grid worker's says so and keeps nothing.
    page.fill("#fd-token", page_city.tokens["dispatcher"])
    page.click("#fd-token-use")
    assert "网格员" in p.message("令牌")
    assert page.evaluate("() => localStorage.getItem('wangge-field-token')") is None
    # With the network cut the shell still opens, in both languages.
    p.context.set_offline(True)
    for query, title in (("", "网格员"), ("?lang=en", "Grid worker")):
        page.reload() if not query else page.goto(f"{page_city.base_url}/field/{query}")
        page.wait_for_function("() => window.wangge && window.wangge.loaded.field === 'sign-in'")
        assert page.inner_text("h1") == title
        assert page.inner_text("#fd-net") in ("离线", "Offline")
    p.context.set_offline(False)
    assert p.outside == [] and p.errors == []
