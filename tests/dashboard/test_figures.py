"""The dashboard's figures equal counts made here, independently, from the incidents view;
bad input is refused naming the field."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from gis.demo.hotline import HOTLINE_DAY
from tests.dashboard.conftest import BEIJING, day_start, rows, window
from tests.incidents.conftest import bearer


def _get(http: httpx.Client, token: str, path: str, **params: Any) -> httpx.Response:
    return http.get(path, params=params, headers=bearer(token))


def test_the_day_in_the_structure_of_the_daily_report(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    token = demo_tokens["viewer"]
    figures = _get(demo_http, token, "/api/v1/dashboard", date=HOTLINE_DAY.isoformat())
    assert figures.status_code == 200, figures.text
    report = _get(demo_http, token, "/api/v1/reports/daily", date=HOTLINE_DAY.isoformat()).json()
    assert figures.json()["day"] == report
    assert report["calls"] == 843 and report["total"] == 899  # the published day


def test_open_and_overdue_by_district_and_unit(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine
) -> None:
    end = day_start(HOTLINE_DAY + timedelta(days=1))
    expected: dict[str, Counter[str | None]] = {"district": Counter(), "unit": Counter()}
    overdue: dict[str, Counter[str | None]] = {"district": Counter(), "unit": Counter()}
    for district, unit, due_at, closed_at, status in rows(
        demo_engine,
        "SELECT district_code, unit_code, due_at, closed_at, status FROM incidents"
        " WHERE received_at < :end",
        end=end,
    ):
        if (closed_at is not None and closed_at < end) or (
            status == "closed" and closed_at is None
        ):
            continue
        for key, value in (("district", district), ("unit", unit)):
            expected[key][value] += 1
            overdue[key][value] += due_at is not None and due_at < end
    body = _get(
        demo_http, demo_tokens["viewer"], "/api/v1/dashboard", date=HOTLINE_DAY.isoformat()
    ).json()["open"]
    assert sum(expected["district"].values()) > 0
    assert body["total"] == sum(expected["district"].values())
    assert body["overdue"] == sum(overdue["district"].values())
    for key in ("district", "unit"):
        got = {r["code"]: (r["open"], r["overdue"]) for r in body[f"by_{key}"]}
        assert got == {c: (n, overdue[key][c]) for c, n in expected[key].items()}
    names = dict(rows(demo_engine, "SELECT code, name FROM districts WHERE valid_to IS NULL"))
    assert all(r["name"] == names[r["code"]] for r in body["by_district"] if r["code"])
    units = dict(rows(demo_engine, "SELECT code, name FROM units"))
    assert all(r["name"] == units[r["code"]] for r in body["by_unit"] if r["code"])


def test_open_today_is_every_case_not_closed(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine
) -> None:
    by_district = dict(
        rows(
            demo_engine,
            "SELECT coalesce(district_code, '-'), count(*) FROM incidents"
            " WHERE status <> 'closed' GROUP BY 1",
        )
    )
    body = _get(demo_http, demo_tokens["viewer"], "/api/v1/dashboard").json()["open"]
    assert {r["code"] or "-": r["open"] for r in body["by_district"]} == by_district


def _rates(due: int, on_time: int, closed: int, rated: int, ok: int, reopened: int) -> Any:
    def rate(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return rate(on_time, due), rate(ok, rated), rate(reopened, closed)


def test_unit_rates_over_thirty_days(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine,
    demo_month: tuple[date, date],
) -> None:  # fmt: skip
    # A past window (kept a few minutes) and today's (its past days kept, today read afresh).
    for day in (demo_month[1] + timedelta(days=1), datetime.now(BEIJING).date()):
        _check_rates(demo_http, demo_tokens, demo_engine, day)


def _check_rates(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine, day: date
) -> None:
    since, until = window(day, 30)
    per_unit: dict[str | None, list[int]] = defaultdict(lambda: [0] * 6)
    for unit, due_at, closed_at, rating, reopens in rows(
        demo_engine, "SELECT unit_code, due_at, closed_at, rating, reopen_count FROM incidents"
    ):
        n = per_unit[unit]
        if due_at is not None and since <= due_at < until:
            n[0] += 1
            n[1] += closed_at is not None and closed_at <= due_at
        if closed_at is not None and since <= closed_at < until:
            n[2] += 1
            n[3] += rating is not None
            n[4] += rating is not None and rating >= 4
            n[5] += reopens > 0
    expected = {u: n for u, n in per_unit.items() if n[0] or n[2]}
    body = _get(demo_http, demo_tokens["viewer"], "/api/v1/dashboard", date=day.isoformat())
    rates = body.json()["rates"]
    got = {
        u["code"]: [u[k] for k in ("due", "on_time", "closed", "rated", "satisfied", "reopened")]
        for u in rates["units"]
    }
    assert got == expected
    for u in rates["units"]:
        assert (u["on_time_rate"], u["satisfaction_rate"], u["reopen_rate"]) == _rates(
            *expected[u["code"]]
        )
    totals = [sum(n[i] for n in expected.values()) for i in range(6)]
    city = (rates["on_time_rate"], rates["satisfaction_rate"], rates["reopen_rate"])
    assert city == _rates(*totals)
    report = _get(demo_http, demo_tokens["viewer"], "/api/v1/reports/daily", date=day.isoformat())
    r = report.json()
    assert (r["on_time_rate"], r["satisfaction_rate"], r["reopen_rate"]) == city


def test_thirty_day_trend_and_density(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine
) -> None:
    since, until = window(HOTLINE_DAY, 30)
    received: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    for at, channel, closed_at in rows(
        demo_engine, "SELECT received_at, channel, closed_at FROM incidents"
    ):
        if since <= at < until:
            received[at.astimezone(day_start(HOTLINE_DAY).tzinfo).date().isoformat()] += 1
            calls[at.astimezone(day_start(HOTLINE_DAY).tzinfo).date().isoformat()] += (
                channel == "hotline_call"
            )
        if closed_at is not None and since <= closed_at < until:
            closed[closed_at.astimezone(day_start(HOTLINE_DAY).tzinfo).date().isoformat()] += 1
    body = _get(demo_http, demo_tokens["viewer"], "/api/v1/dashboard", date=HOTLINE_DAY.isoformat())
    trend = body.json()["trend"]
    assert len(trend) == 30 and trend[-1]["date"] == HOTLINE_DAY.isoformat()
    assert {d["date"]: d["received"] for d in trend if d["received"]} == dict(received)
    assert {d["date"]: d["calls"] for d in trend if d["calls"]} == +calls
    assert {d["date"]: d["closed"] for d in trend if d["closed"]} == dict(closed)

    start, end = window(HOTLINE_DAY, 7)
    grids = dict(
        rows(
            demo_engine,
            "SELECT grid_code, count(*) FROM incidents WHERE received_at >= :s"
            " AND received_at < :e AND grid_code IS NOT NULL GROUP BY grid_code",
            s=start,
            e=end,
        )
    )
    density = _get(
        demo_http,
        demo_tokens["viewer"],
        "/api/v1/dashboard/density",
        date=HOTLINE_DAY.isoformat(),
        days=7,
    ).json()
    assert grids and {g["code"]: g["count"] for g in density["grids"]} == grids
    assert density["max"] == max(grids.values()) and density["total"] == sum(grids.values())
    x0, y0, x1, y1 = density["bounds"]
    assert x0 < x1 and y0 < y1


def test_a_district_narrows_every_figure(
    demo_http: httpx.Client, demo_tokens: dict[str, str], demo_engine: Engine
) -> None:
    (district, _n), *_ = rows(
        demo_engine,
        "SELECT district_code, count(*) FROM incidents WHERE district_code IS NOT NULL"
        " GROUP BY 1 ORDER BY 2 DESC",
    )
    start, end = window(HOTLINE_DAY, 1)
    on_day = rows(
        demo_engine,
        "SELECT count(*) FROM incidents WHERE district_code = :d AND received_at >= :s"
        " AND received_at < :e",
        d=district,
        s=start,
        e=end,
    )[0][0]
    body = _get(
        demo_http,
        demo_tokens["viewer"],
        "/api/v1/dashboard",
        date=HOTLINE_DAY.isoformat(),
        district=district,
    ).json()
    assert body["district"] == district and body["day"]["total"] == on_day > 0
    assert {r["code"] for r in body["open"]["by_district"]} <= {district}


def test_bad_input_is_refused_naming_the_field(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    token = demo_tokens["viewer"]
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    for path in ("/api/v1/dashboard", "/api/v1/dashboard/density", "/dashboard"):
        for params, field in (
            ({"date": "2026-13-01"}, "date"),
            ({"date": "18/11/2026"}, "date"),
            ({"date": future}, "date"),
            ({"district": "999999"}, "district"),
            ({"unit": "no-such-unit"}, "unit"),
        ):
            r = _get(demo_http, token, path, **params)
            assert r.status_code == 422, (path, params, r.text)
            assert r.json()["field"] == field, (path, params, r.text)
    r = _get(demo_http, token, "/api/v1/dashboard/density", days=5)
    assert r.status_code == 422 and r.json()["field"] == "days"
    r = _get(demo_http, token, "/dashboard", lang="fr")
    assert r.status_code == 422 and r.json()["field"] == "lang"
