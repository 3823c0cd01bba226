"""Coverage statistics over HTTP, checked against an independent geodesic computation."""

from __future__ import annotations

import pytest

from tests.coverage import independent
from tests.coverage.conftest import DISTRICT, EMPTY_DISTRICT, City

TOLERANCE = 0.005  # relative


def _close(ours: float, theirs: float) -> None:
    assert ours == pytest.approx(theirs, rel=TOLERANCE, abs=1e-9), (ours, theirs)


@pytest.mark.parametrize(
    ("kind", "params", "table", "code"),
    [
        ("enforcement_station", {}, "districts", None),
        ("enforcement_station", {"district": DISTRICT}, "districts", DISTRICT),
        ("enforcement_station", {"street": f"{DISTRICT}001"}, "streets", f"{DISTRICT}001"),
        ("elderly_canteen", {"community": f"{DISTRICT}002001"}, "communities", f"{DISTRICT}002001"),
    ],
)
def test_figures_match_an_independent_computation(
    small_city: City, kind: str, params: dict[str, str], table: str, code: str | None
) -> None:
    with small_city.client() as http:
        body = http.get("/api/v1/coverage", params={"type": kind, "days": 30, **params}).json()
    ref = independent.reference(small_city.engine, kind, table, code, 30)
    assert ref["incident_count"] > 0 and body["incidents"]["total"] == ref["incident_count"]
    _close(body["area"]["share"], ref["area"])
    for name in ("residents", "households", "elderly_residents", "incidents"):
        _close(body[name]["share"], ref[name])
    total = body["residents"]["total"]
    _close(body["residents"]["covered_twice"] / total, ref["residents_twice"])
    assert 0 < body["area"]["share"] < 1
    basis = "elderly_residents" if kind == "elderly_canteen" else "residents"
    assert body["population_basis"] == basis and body["population"] == body[basis]


def test_uncovered_areas_and_double_cover_add_up(small_city: City) -> None:
    with small_city.client() as http:
        body = http.get("/api/v1/coverage", params={"district": DISTRICT}).json()
    area = body["area"]
    gaps = body["uncovered"]["features"]
    assert gaps and all(f["geometry"]["type"] == "Polygon" for f in gaps)
    gap_m2 = sum(f["properties"]["area_m2"] for f in gaps)
    assert gap_m2 == pytest.approx(area["total_m2"] - area["covered_m2"], rel=1e-6)
    # ES-T1 and ES-T2 overlap: a lens covered twice, smaller than either circle.
    assert 0 < area["covered_twice_m2"] < 3.1416 * 2000**2
    assert body["residents"]["covered_twice"] > 0


def test_load_per_facility(small_city: City) -> None:
    with small_city.client() as http:
        body = http.get("/api/v1/coverage", params={"district": DISTRICT, "days": 10}).json()
    ref = independent.reference(small_city.engine, "enforcement_station", "districts", DISTRICT, 10)
    rows = sorted(body["load"], key=lambda r: r["id"])
    assert [r["code"] for r in rows] == ["ES-T1", "ES-T2", "ES-T3"]
    for row, theirs in zip(rows, ref["per_facility_residents"], strict=True):
        _close(row["residents"], theirs)
        assert row["incidents_per_day"] == pytest.approx(row["incidents"] / 10, abs=1e-3)
        assert row["residents_per_staff"] == pytest.approx(row["residents"] / row["staff"], abs=0.1)
    assert body["facilities"] == 3


def test_incident_window(small_city: City) -> None:
    with small_city.client() as http:
        week = http.get("/api/v1/coverage", params={"days": 30}).json()["incidents"]["total"]
        quarter = http.get("/api/v1/coverage", params={"days": 100}).json()["incidents"]["total"]
    assert (week, quarter) == (300, 400)


def test_empty_district_has_no_cover(small_city: City) -> None:
    with small_city.client() as http:
        body = http.get("/api/v1/coverage", params={"district": EMPTY_DISTRICT}).json()
    assert body["residents"]["total"] == 0 and body["residents"]["share"] == 0
    assert body["area"]["total_m2"] > 0


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"district": "639999"}, 404, "district"),
        ({"street": "639999001"}, 404, "street"),
        ({"community": "630198009009"}, 404, "community"),
        ({"district": DISTRICT, "street": "630199001"}, 422, "street"),
        ({"type": "cinema"}, 422, "type"),
        ({"days": 0}, 422, "days"),
        ({"days": 5000}, 422, "days"),
        ({"days": "many"}, 422, "days"),
    ],
)
def test_bad_input(small_city: City, params: dict[str, str | int], status: int, field: str) -> None:
    with small_city.client() as http:
        response = http.get("/api/v1/coverage", params=params)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
