"""What a map page costs: its size, no layer inlined, and ETag revalidation that follows
every change the page shows (a facility moved, a grid edited, classes recomputed)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from gis import migrate
from gis.db import make_engine, session_scope
from gis.models import ROLES
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.maps.conftest import LAT0, LON0, STEP, City, OfflinePage, build_small_city

MAX_PAGE_BYTES = 300_000
PAGES = ["/maps/", "/maps/coverage", "/maps/grids", "/maps/editor"]
WHOLE_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9]{12,15}(?![0-9])")
WANGGE = Path(sys.executable).with_name("wangge")


@pytest.fixture(scope="module")
def own_city(fresh_database: Callable[..., str]) -> Iterator[City]:
    """A small city of this module's own: the tests here write to it."""
    url: str = fresh_database()
    migrate.upgrade(url)
    build_small_city(url)
    engine = make_engine(url, pool_size=2)
    with session_scope(engine) as session:
        tokens = {role: create_token(session, role, f"cost-{role}")[0] for role in ROLES}
    server = LiveServer(url).start()
    yield City(url, engine, server.base_url, tokens)
    server.stop()
    engine.dispose()


def config_of(body: str, function: str) -> dict[str, Any]:
    """The JSON a page hands to its script (``function(map, {...})``)."""
    found = re.search(function + r"\(\w+, (\{.*\})\);", body)
    assert found is not None, function
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def tile_properties(page: OfflinePage, layer: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = page.page.evaluate(
        f"""() => {{
        const l = window.wangge.layers[{layer!r}], out = [];
        for (const k in l._vectorTiles) for (const id in l._vectorTiles[k]._features)
            out.push(l._vectorTiles[k]._features[id].feature.properties);
        return out;
    }}"""
    )
    return got


def open_page(offline: Callable[..., OfflinePage], base_url: str, path: str, layer: str) -> Any:
    p = offline()
    p.base_url = base_url
    p.goto(path)
    p.page.wait_for_function(f"() => window.wangge.loaded && window.wangge.loaded.{layer}")
    return p


def test_every_page_is_small_and_inlines_no_layer_on_the_demo_city(
    demo_server: LiveServer, demo_engine: Engine
) -> None:
    with demo_engine.connect() as conn:
        incident = conn.execute(text("SELECT min(id) FROM incidents")).scalar_one()
        communities = conn.execute(
            text("SELECT code FROM communities WHERE valid_to IS NULL")
        ).scalars()
        grids = conn.execute(text("SELECT code FROM grids WHERE valid_to IS NULL")).scalars()
        codes = {*communities, *grids}
    assert incident is not None and len(codes) > 1000
    for path in [*PAGES, f"/maps/dispatch/{incident}"]:
        for lang in ("zh", "en"):
            r = httpx.get(f"{demo_server.base_url}{path}", params={"lang": lang}, timeout=60)
            assert r.status_code == 200, path
            assert len(r.content) <= MAX_PAGE_BYTES, (path, lang, len(r.content))
            if path == f"/maps/dispatch/{incident}":
                continue  # one incident's own grid and community are the point of the page
            # No community or grid of the city is written into the page: they come as tiles.
            # (A facility's code may hold its community's: only whole codes count.)
            assert set(WHOLE_CODE.findall(r.text)) & codes == set(), path
            assert r.text.count('"Feature"') <= 1, path  # at most the uncovered area
    coverage = httpx.get(f"{demo_server.base_url}/maps/coverage", timeout=60).text
    assert '"FeatureCollection"' in coverage and coverage.count('"Feature"') == 1


def test_pages_carry_an_etag_and_answer_304_to_it(own_city: City) -> None:
    incident = own_city.scalar("SELECT min(id) FROM incidents")
    for path in [*PAGES, f"/maps/dispatch/{incident}"]:
        first = httpx.get(f"{own_city.base_url}{path}")
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('"') and first.content
        again = httpx.get(f"{own_city.base_url}{path}", headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b"" and again.headers["etag"] == etag
        listed = httpx.get(
            f"{own_city.base_url}{path}", headers={"If-None-Match": f'"other", W/{etag}'}
        )
        assert listed.status_code == 304, path
        other = httpx.get(f"{own_city.base_url}{path}", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200 and other.headers["etag"] == etag, path
        # The same page (a dispatch page is built anew: folium's element names differ).
        assert len(other.content) == len(first.content), path
    # Each language and each ``at`` is a page of its own.
    zh = httpx.get(f"{own_city.base_url}/maps/coverage").headers["etag"]
    en = httpx.get(f"{own_city.base_url}/maps/coverage?lang=en").headers["etag"]
    past = httpx.get(f"{own_city.base_url}/maps/coverage?at=2001-01-01T00:00:00Z")
    assert len({zh, en, past.headers["etag"]}) == 3
    assert config_of(past.text, "wanggeCoverage")["stations"] == []


def test_a_moved_canteen_changes_the_coverage_page(own_city: City) -> None:
    before = httpx.get(f"{own_city.base_url}/maps/coverage")
    etag = before.headers["etag"]
    lon, lat = LON0 + 2.2 * STEP, LAT0 + 0.7 * STEP
    moved = httpx.patch(
        f"{own_city.base_url}/api/v1/facilities/CT001",
        json={"lon": lon, "lat": lat},
        headers={"Authorization": f"Bearer {own_city.tokens['planner']}"},
    )
    assert moved.status_code == 200, moved.text
    after = httpx.get(f"{own_city.base_url}/maps/coverage", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    (canteen,) = config_of(after.text, "wanggeCoverage")["canteens"]
    assert canteen["lon"] == pytest.approx(lon) and canteen["lat"] == pytest.approx(lat)
    (old,) = config_of(before.text, "wanggeCoverage")["canteens"]
    assert old["lon"] != pytest.approx(lon)


def test_a_grid_edit_changes_the_grids_page(
    own_city: City, offline: Callable[..., OfflinePage]
) -> None:
    code = "630103001001002"
    etag = httpx.get(f"{own_city.base_url}/maps/grids").headers["etag"]
    households = own_city.scalar(
        "SELECT households FROM grids WHERE code = :c AND valid_to IS NULL", c=code
    )
    p = open_page(offline, own_city.base_url, "/maps/grids", "grids")
    assert {f["code"]: f["households"] for f in tile_properties(p, "grids")}[code] == households
    with own_city.engine.begin() as conn:
        conn.execute(
            text("UPDATE grids SET households = :h WHERE code = :c AND valid_to IS NULL"),
            {"h": households + 77, "c": code},
        )
    after = httpx.get(f"{own_city.base_url}/maps/grids", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    p = open_page(offline, own_city.base_url, "/maps/grids", "grids")
    shown = {f["code"]: f["households"] for f in tile_properties(p, "grids")}
    assert shown[code] == households + 77
    assert p.errors == [] and p.outside == []


def test_a_class_recompute_changes_the_coverage_page(
    own_city: City, offline: Callable[..., OfflinePage]
) -> None:
    env = {**os.environ, "WANGGE_DATABASE_URL": own_city.url}

    def recompute() -> None:
        done = subprocess.run(
            [str(WANGGE), "classify", "--recompute"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr

    def stored() -> dict[str, str]:
        with own_city.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT code, coalesce(class, '?') FROM communities WHERE valid_to IS NULL")
            )
            return {str(c): str(k) for c, k in rows}

    recompute()
    ruled = stored()
    code = min(ruled)
    wrong = "D" if ruled[code] != "D" else "A"
    with own_city.engine.begin() as conn:
        conn.execute(
            text("UPDATE communities SET class = :k WHERE code = :c AND valid_to IS NULL"),
            {"k": wrong, "c": code},
        )
    etag = httpx.get(f"{own_city.base_url}/maps/coverage").headers["etag"]
    p = open_page(offline, own_city.base_url, "/maps/coverage", "communities")
    shown = {f["code"]: f.get("community_class") or "?" for f in tile_properties(p, "communities")}
    assert shown[code] == wrong
    recompute()
    assert stored() == ruled
    after = httpx.get(f"{own_city.base_url}/maps/coverage", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    p = open_page(offline, own_city.base_url, "/maps/coverage", "communities")
    shown = {f["code"]: f.get("community_class") or "?" for f in tile_properties(p, "communities")}
    assert shown == ruled
    assert p.errors == [] and p.outside == []
