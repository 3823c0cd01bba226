"""Fixtures for the incident tests: categories on the empty database, helpers for requests."""

from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.settings import PROJECT_ROOT
from tests.conftest import LiveServer

# Categories of the empty test database (the demo city brings its own).
TEST_CATEGORIES = (
    ("property_service", "物业服务", "Property services", "Housing bureau", 5),
    ("noise", "噪声扰民", "Noise", "Ecology and environment bureau", 3),
    ("road_damage", "道路破损", "Road damage", "Urban management bureau", 2),
)
# Their default responsible units (责任单位), city-wide departments, and one more unit.
TEST_UNITS = (
    ("housing", "住房和城乡建设局", "property_service"),
    ("ecology", "生态环境局", "noise"),
    ("urban", "城市管理局", "road_damage"),
    ("street_office", "南滩街道办事处", None),
)
_ids = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_external_id(prefix: str = "t") -> str:
    return f"{prefix}-{next(_ids):06d}-{id(_ids) % 9973}"


@pytest.fixture(scope="session")
def categories(engine: Engine) -> list[str]:
    """The test categories, present in the session's empty database."""
    with engine.begin() as conn:
        for code, zh, en, unit, days in TEST_CATEGORIES:
            conn.execute(
                text(
                    "INSERT INTO incident_categories (code, name_zh, name_en, handling_unit,"
                    " due_working_days, active) VALUES (:c, :zh, :en, :u, :d, true)"
                    " ON CONFLICT (code) DO NOTHING"
                ),
                {"c": code, "zh": zh, "en": en, "u": unit, "d": days},
            )
        for unit_code, name, category in TEST_UNITS:
            conn.execute(
                text(
                    "INSERT INTO units (code, name, kind, active) VALUES (:c, :n, 'department',"
                    " true) ON CONFLICT (code) DO NOTHING"
                ),
                {"c": unit_code, "n": name},
            )
            conn.execute(
                text("UPDATE incident_categories SET default_unit_code = :u WHERE code = :c"),
                {"u": unit_code, "c": category},
            )
    return [c[0] for c in TEST_CATEGORIES]


@pytest.fixture
def incident_body(categories: list[str]) -> Iterator[dict[str, Any]]:
    """A valid POST body (a point in Xining; the empty database has no grids: outside)."""
    yield {
        "external_id": new_external_id(),
        "channel": "hotline_call",
        "category_code": categories[0],
        "description": "电梯故障 lift out of order",
        "lon": 101.7782,
        "lat": 36.6171,
        "crs": "wgs84",
        "reporter_name": "张三丰",
        "reporter_phone": "13812345678",
    }


BULK_HEADER = "external_id,channel,category_code,description,lon,lat,crs,received_at"


def bulk_csv(prefix: str, category: str) -> tuple[str, dict[int, str]]:
    """A file with two good rows and one broken row of each kind; row → field its reason names."""
    long_text = "x" * 4001
    rows = [
        f"{prefix}-1,hotline_call,{category},lift,101.7782,36.6171,wgs84,2026-03-02T09:00:00+08:00",
        f"{prefix}-2,fax,{category},bad channel,101.77,36.61,wgs84,",
        f"{prefix}-3,wechat,{category},bad lon,abc,36.61,wgs84,",
        f'{prefix}-4,wechat,{category},"ragged",101.77,36.61,wgs84,,surplus',
        f"{prefix}-5,wechat,no_such_category,bad category,101.77,36.61,wgs84,",
        f"{prefix}-6,wechat,{category},{long_text},101.77,36.61,wgs84,",
        f'{prefix}-7,wechat,{category},"gcj, with comma",101.7845,36.6158,gcj02,2026-03-02 10:00',
        f"{prefix}-1,wechat,{category},repeat,101.77,36.61,wgs84,",
        f"{prefix}-9,wechat,{category},nan,101.77,nan,wgs84,",
        f"{prefix}-10,wechat,{category},bad time,101.77,36.61,wgs84,next tuesday",
        f"{prefix}-11,wechat,{category},bad crs,101.77,36.61,mars,",
    ]
    bad = {3: "channel", 4: "lon", 5: "fields", 6: "category_code", 7: "description", 9: "repeats"}
    bad |= {10: "lat", 11: "received_at", 12: "crs"}
    return "\n".join([BULK_HEADER, *rows]) + "\n", bad


def import_cli(database_url: str, path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``wangge import incidents PATH [options]`` in its own process, on ``database_url``."""
    env = {**os.environ, "WANGGE_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "import", "incidents", str(path), *options],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def count_incidents(engine: Engine, where: str = "true", **params: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM incidents WHERE {where}"), params).scalar_one()
        )


def post(
    http: httpx.Client, token: str, body: Any, path: str = "/api/v1/incidents"
) -> httpx.Response:
    return http.post(path, json=body, headers=bearer(token))


# -- a private copy of the demo city (these tests write) -----------------------------


@dataclass
class City:
    url: str
    engine: Engine
    server: LiveServer
    tokens: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, timeout=30)

    def grid_point(self, offset: int = 0) -> tuple[str, float, float]:
        """A current grid's code and a point well inside it (CGCS2000)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code,"
                    " ST_PointOnSurface(ST_Buffer(geom::geography, -20)::geometry) AS p"
                    " FROM grids WHERE valid_to IS NULL ORDER BY code OFFSET :o LIMIT 1) s"
                ),
                {"o": offset},
            ).one()
        return str(row[0]), float(row[1]), float(row[2])


@pytest.fixture(scope="session")
def city(demo_copy: Callable[[], str]) -> Iterator[City]:
    from gis.db import make_engine, session_scope
    from gis.models import ROLES
    from gis.tokens import create_token

    gc.collect()  # the demo loader's pooled connections must be gone to copy the template
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    plain: dict[str, str] = {}
    with session_scope(engine) as session:
        for role in ROLES:
            plain[role], _ = create_token(session, role, f"city-{role}")
    server = LiveServer(url).start()
    yield City(url, engine, server, plain)
    server.stop()
    engine.dispose()


@pytest.fixture
def city_http(city: City) -> Iterator[httpx.Client]:
    with city.client() as client:
        yield client
