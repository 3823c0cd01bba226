"""Fixtures for the map tests: a small city of our own, served over real HTTP.

Two communities of 3 grids each in Chengzhong (630103), two stations, a canteen,
party branches and a handful of incidents with reporters, so that every page,
tile layer and OGC collection has something to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shapely
from playwright.sync_api import Browser, Page, Route
from shapely.geometry import MultiPolygon
from sqlalchemy import Engine, text

from gis import migrate
from gis.db import make_engine, session_scope
from gis.models import (
    ROLES,
    BoundaryVersion,
    Community,
    Compound,
    District,
    Facility,
    Grid,
    Incident,
    IncidentCategory,
    PartyBranch,
    Street,
)
from gis.tokens import create_token
from tests.conftest import LiveServer

LON0, LAT0 = 101.770, 36.610
STEP = 0.01  # grid cell, degrees
DISTRICT, STREET = "630103", "630103001"
HOUSEHOLDS = (250, 420, 610, 380, 300, 510)


def build_small_city(url: str) -> None:
    """Write the small city through the models, so column defaults apply."""
    engine = make_engine(url, pool_size=1)

    def box(c0: float, r0: float, c1: float, r1: float) -> str:
        cell = shapely.box(LON0 + c0 * STEP, LAT0 + r0 * STEP, LON0 + c1 * STEP, LAT0 + r1 * STEP)
        return f"SRID=4490;{MultiPolygon([cell]).wkt}"

    def point(c: float, r: float) -> str:
        return f"SRID=4490;POINT({LON0 + c * STEP} {LAT0 + r * STEP})"

    with session_scope(engine) as s:
        version = BoundaryVersion(author="test", reason="small city", operation="load")
        s.add(version)
        s.flush()
        v = version.id
        s.add(
            District(
                code=DISTRICT,
                name="城中区",
                district_code=DISTRICT,
                geom=box(0, 0, 3, 2),
                version_id=v,
            )
        )
        s.add(
            Street(
                code=STREET,
                name="人民街街道",
                district_code=DISTRICT,
                kind="street",
                geom=box(0, 0, 3, 2),
                version_id=v,
            )
        )
        for r in (1, 2):
            community = f"{STREET}{r:03d}"
            s.add(
                Community(
                    code=community,
                    name=f"社区{r}",
                    district_code=DISTRICT,
                    street_code=STREET,
                    geom=box(0, r - 1, 3, r),
                    version_id=v,
                    households=1200 * r,
                    residents=3000 * r,
                    community_class="A" if r == 1 else "B",
                )
            )
            for c in (1, 2, 3):
                s.add(
                    Grid(
                        code=f"{community}{c:03d}",
                        name=f"网格{r}-{c}",
                        district_code=DISTRICT,
                        street_code=STREET,
                        community_code=community,
                        geom=box(c - 1, r - 1, c, r),
                        version_id=v,
                        households=HOUSEHOLDS[(r - 1) * 3 + c - 1],
                        residents=1000,
                        worker_name="王网格员",
                    )
                )
        facilities = [
            Facility(
                code="ST001",
                type="enforcement_station",
                name="人民街综合执法服务站",
                district_code=DISTRICT,
                geom=point(0.5, 0.5),
                service_radius_m=2000,
                staff=20,
            ),
            Facility(
                code="ST002",
                type="enforcement_station",
                name="南关综合执法服务站",
                district_code=DISTRICT,
                geom=point(2.5, 1.5),
                service_radius_m=2000,
                staff=20,
            ),
            Facility(
                code="CT001",
                type="elderly_canteen",
                name="爱老幸福食堂一",
                district_code=DISTRICT,
                geom=point(1.5, 1.5),
                service_radius_m=1000,
                seats=40,
                hours="10-19",
            ),
        ]
        s.add_all(facilities)
        # A residential compound inside grid 1-2 (drawn on the city's own basemap).
        s.add(
            Compound(
                code="CP001",
                name="幸福小区",
                district_code=DISTRICT,
                community_code=f"{STREET}001",
                geom=box(1.2, 0.2, 1.8, 0.8),
            )
        )
        s.add(
            IncidentCategory(
                code="noise", name_zh="噪声扰民", name_en="Noise", handling_unit="城中区综合执法局"
            )
        )
        s.flush()
        s.execute(
            text(
                "UPDATE facilities SET service_area = ST_Transform("
                "ST_Buffer(ST_Transform(geom, 4543), service_radius_m, 64), 4490)"
            )
        )
        branch = PartyBranch(
            kind="grid_branch",
            name="第一网格党支部",
            district_code=DISTRICT,
            community_code=f"{STREET}001",
            grid_code=f"{STREET}001001",
            secretary="李书记",
            members=12,
        )
        s.add(branch)
        s.flush()
        for i in range(1, 9):
            s.add(
                Incident(
                    external_id=f"T{i}",
                    channel="hotline_call",
                    category_code="noise",
                    description=f"夜间施工噪声 {i}",
                    geom=point(0.3 + i * 0.04, 0.4),
                    reporter_name="张三丰",
                    reporter_phone="13812345678",
                    status="closed" if i % 3 == 0 else "received",
                    match="inside",
                    district_code=DISTRICT,
                    street_code=STREET,
                    community_code=f"{STREET}001",
                    grid_code=f"{STREET}001001",
                    station_id=facilities[0].id,
                    station_distance_m=200.0 + i,
                    station_within_radius=True,
                    party_branch_id=branch.id,
                    boundary_version_id=v,
                )
            )
    engine.dispose()


@dataclass(frozen=True)
class City:
    url: str
    engine: Engine
    base_url: str
    tokens: dict[str, str]

    def scalar(self, sql: str, **params: object) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())


@pytest.fixture(scope="session")
def small_city_url(fresh_database: Callable[..., str]) -> str:
    url: str = fresh_database()
    migrate.upgrade(url)
    build_small_city(url)
    return url


@pytest.fixture(scope="session")
def city(small_city_url: str) -> Iterator[City]:
    engine = make_engine(small_city_url, pool_size=2)
    plain: dict[str, str] = {}
    with session_scope(engine) as session:
        for role in ROLES:
            plain[role], _ = create_token(session, role, f"maps-{role}")
    server = LiveServer(small_city_url).start()
    yield City(small_city_url, engine, server.base_url, plain)
    server.stop()
    engine.dispose()


# -- the browser --------------------------------------------------------------------------

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


class OfflinePage:
    """A page whose every request outside 127.0.0.1 is refused and recorded."""

    def __init__(
        self,
        browser: Browser,
        base_url: str,
        headers: dict[str, str] | None = None,
        timezone_id: str | None = None,
    ):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 860},
            extra_http_headers=headers or {},
            timezone_id=timezone_id,
        )
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.base_url = base_url

    def _route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort("blockedbyclient")

    def goto(self, path: str) -> Page:
        response = self.page.goto(self.base_url + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        return self.page

    def shot(self, name: str) -> None:
        """Screenshot once the map has stopped moving and fades have ended."""
        self.page.wait_for_function(
            "() => !window.wangge || !window.wangge.map || !window.wangge.map._animatingZoom"
        )
        self.page.wait_for_timeout(400)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser: Browser, city: City) -> Iterator[Callable[..., OfflinePage]]:
    opened: list[OfflinePage] = []

    def make(headers: dict[str, str] | None = None, timezone_id: str | None = None) -> OfflinePage:
        page = OfflinePage(browser, city.base_url, headers, timezone_id)
        opened.append(page)
        return page

    yield make
    for page in opened:
        page.close()
