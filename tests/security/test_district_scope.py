"""District-scoped tokens (``wangge token create --district``) write only in their district:
incidents (JSON, bulk, Open311), transitions, grid edits and facilities, on the demo city.
A refused write is a 403 naming the district and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.db import make_engine, session_scope
from gis.editing.balance import best_split
from gis.editing.state import load_community
from gis.settings import Settings
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.security.conftest import bearer

HOME, ELSEWHERE = "630103", "630104"


@dataclass(frozen=True)
class ScopedCity:
    engine: Engine
    http: httpx.Client
    tokens: dict[str, str]  # "dispatcher", "planner" (scoped to HOME), "city" (city-wide)

    def scalar(self, sql: str, **params: object) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def point(self, district: str) -> tuple[float, float]:
        """A point inside one of the district's grids (CGCS2000)."""
        with self.engine.connect() as conn:
            x, y = conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids"
                    " WHERE district_code = :d AND valid_to IS NULL ORDER BY code LIMIT 1) s"
                ),
                {"d": district},
            ).one()
        return float(x), float(y)

    def incident(self, district: str, token: str, external_id: str) -> httpx.Response:
        lon, lat = self.point(district)
        body: dict[str, Any] = {"external_id": external_id, "channel": "hotline_call"}
        body |= {"category_code": "noise", "lon": lon, "lat": lat, "crs": "cgcs2000"}
        return self.http.post("/api/v1/incidents", json=body, headers=bearer(token))


@pytest.fixture(scope="module")
def city(demo_copy: Callable[[], str]) -> Iterator[ScopedCity]:
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    with session_scope(engine) as session:
        tokens = {
            "dispatcher": create_token(session, "dispatcher", "chengzhong desk", HOME)[0],
            "planner": create_token(session, "planner", "chengzhong planner", HOME)[0],
            "city": create_token(session, "admin", "city admin")[0],
        }
    with LiveServer(url) as server, server.client() as client:
        yield ScopedCity(engine, client, tokens)
    engine.dispose()


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["field"] == "district"
    assert f"limited to district {HOME}" in body["error"]


def test_incidents_only_in_the_home_district(city: ScopedCity) -> None:
    before = city.scalar("SELECT count(*) FROM incidents")
    _refused(city.incident(ELSEWHERE, city.tokens["dispatcher"], "scope-away"))
    assert city.scalar("SELECT count(*) FROM incidents") == before
    home = city.incident(HOME, city.tokens["dispatcher"], "scope-home")
    assert home.status_code == 201 and home.json()["assignment"]["district_code"] == HOME
    # A city-wide token posts anywhere.
    assert city.incident(ELSEWHERE, city.tokens["city"], "scope-city").status_code == 201


def test_transitions_only_in_the_home_district(city: ScopedCity) -> None:
    away = city.incident(ELSEWHERE, city.tokens["city"], "scope-step-away").json()["id"]
    home = city.incident(HOME, city.tokens["city"], "scope-step-home").json()["id"]
    step = {"to": "dispatched", "note": "to the station"}
    headers = bearer(city.tokens["dispatcher"])
    _refused(city.http.post(f"/api/v1/incidents/{away}/transitions", json=step, headers=headers))
    assert city.scalar("SELECT status FROM incidents WHERE id = :i", i=away) == "received"
    assert city.scalar("SELECT count(*) FROM incident_events WHERE incident_id = :i", i=away) == 1
    done = city.http.post(f"/api/v1/incidents/{home}/transitions", json=step, headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "dispatched"


def test_bulk_refuses_the_rows_of_other_districts(city: ScopedCity) -> None:
    rows = ["external_id,channel,category_code,description,lon,lat,crs,received_at"]
    for n, district in enumerate((HOME, ELSEWHERE, HOME), start=1):
        lon, lat = city.point(district)
        rows.append(f"scope-bulk-{n},wechat,noise,row {n},{lon},{lat},cgcs2000,")
    response = city.http.post(
        "/api/v1/incidents/bulk",
        content="\n".join(rows) + "\n",
        headers={**bearer(city.tokens["dispatcher"]), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["stored"] == 2
    assert [(b["row"], b["reason"]) for b in result["bad_rows"]] == [
        (3, f"location: in district {ELSEWHERE}, outside district {HOME}")
    ]
    stored = city.scalar(
        "SELECT string_agg(external_id, ',' ORDER BY external_id) FROM incidents"
        " WHERE external_id LIKE 'scope-bulk-%'"
    )
    assert stored == "scope-bulk-1,scope-bulk-3"


def test_open311_refuses_other_districts_in_its_own_error_format(city: ScopedCity) -> None:
    lon, lat = city.point(ELSEWHERE)
    form = {"api_key": city.tokens["dispatcher"], "service_code": "noise"}
    form |= {"lat": f"{lat:.7f}", "long": f"{lon:.7f}", "description": "scope-open311"}
    before = city.scalar("SELECT count(*) FROM incidents")
    response = city.http.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 403
    assert response.json() == [
        {"code": 403, "description": f"api_key is limited to district {HOME}"}
    ]
    assert city.scalar("SELECT count(*) FROM incidents") == before


def _split(city: ScopedCity, district: str) -> dict[str, Any]:
    """A valid split of the district's fullest grid, as the editor would send it."""
    settings = Settings()
    with session_scope(city.engine) as session:
        grid, community = session.execute(
            text(
                "SELECT code, community_code FROM grids WHERE district_code = :d"
                " AND valid_to IS NULL ORDER BY households DESC, code LIMIT 1"
            ),
            {"d": district},
        ).one()
        found = best_split(load_community(session, community), grid, settings)
    assert found is not None
    return {"operation": "split", "grid": grid, "line": found[0].__geo_interface__}


def test_grid_edits_only_in_the_home_district(city: ScopedCity) -> None:
    headers = bearer(city.tokens["planner"])
    away = _split(city, ELSEWHERE)
    _refused(city.http.post("/api/v1/edits/preview", json=away, headers=headers))
    version = city.scalar("SELECT max(id) FROM boundary_versions")
    commit = {**away, "base_version": version, "reason": "scope test"}
    _refused(city.http.post("/api/v1/edits", json=commit, headers=headers))
    assert city.scalar("SELECT max(id) FROM boundary_versions") == version

    home = _split(city, HOME)
    preview = city.http.post("/api/v1/edits/preview", json=home, headers=headers)
    assert preview.status_code == 200, preview.text
    done = city.http.post(
        "/api/v1/edits",
        json={**home, "base_version": preview.json()["base_version"], "reason": "scope test"},
        headers=headers,
    )
    assert done.status_code == 201, done.text


def test_facilities_only_in_the_home_district(city: ScopedCity) -> None:
    headers = bearer(city.tokens["planner"])
    stations = "SELECT count(*) FROM facilities"
    before = city.scalar(stations)
    lon, lat = city.point(ELSEWHERE)
    body = {"type": "enforcement_station", "name": "城西试点站", "lon": lon, "lat": lat}
    _refused(
        city.http.post("/api/v1/facilities", json={**body, "district": ELSEWHERE}, headers=headers)
    )
    assert city.scalar(stations) == before
    away = city.scalar(
        "SELECT code FROM facilities WHERE district_code = :d ORDER BY id LIMIT 1", d=ELSEWHERE
    )
    _refused(city.http.patch(f"/api/v1/facilities/{away}", json={"staff": 1}, headers=headers))
    _refused(city.http.post(f"/api/v1/facilities/{away}/retire", headers=headers))
    assert city.scalar("SELECT active FROM facilities WHERE code = :c", c=away) is True

    lon, lat = city.point(HOME)
    home = {**body, "name": "城中试点站", "lon": lon, "lat": lat, "district": HOME}
    created = city.http.post("/api/v1/facilities", json=home, headers=headers)
    assert created.status_code == 201, created.text
    assert city.scalar(stations) == before + 1


def test_a_district_admin_manages_its_own_district_tokens_only(city: ScopedCity) -> None:
    with session_scope(city.engine) as session:
        admin = create_token(session, "admin", "chengzhong admin", HOME)[0]
        away_id = create_token(session, "viewer", "chengxi viewer", ELSEWHERE)[1].id
    headers = bearer(admin)
    for district in (None, ELSEWHERE):
        body = {"role": "viewer", "name": "desk", "district_code": district}
        _refused(city.http.post("/api/v1/tokens", json=body, headers=headers))
    _refused(city.http.delete(f"/api/v1/tokens/{away_id}", headers=headers))
    assert city.scalar("SELECT revoked_at FROM api_tokens WHERE id = :i", i=away_id) is None
    listed = city.http.get("/api/v1/tokens", headers=headers).json()
    assert listed and {t["district_code"] for t in listed} == {HOME}
    made = city.http.post(
        "/api/v1/tokens",
        json={"role": "viewer", "name": "desk", "district_code": HOME},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    mine = made.json()["id"]
    assert city.http.delete(f"/api/v1/tokens/{mine}", headers=headers).status_code == 200
