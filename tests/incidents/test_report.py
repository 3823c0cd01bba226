"""The daily report reproduces the hotline's day (docs/rules.md, "Xining reference figures")
on the demo city."""

from __future__ import annotations

import httpx

from gis.demo.hotline import HOTLINE_DAY
from tests.incidents.conftest import bearer


def test_daily_report_of_the_demo_day(demo_http: httpx.Client, demo_tokens: dict[str, str]) -> None:
    r = demo_http.get(
        "/api/v1/reports/daily",
        params={"date": HOTLINE_DAY.isoformat()},
        headers=bearer(demo_tokens["viewer"]),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["calls"] == 843
    assert report["messages"] == {
        "total": 56,
        "wechat": 46,
        "mayor_mailbox": 7,
        "provincial_site": 2,
        "peoples_daily": 1,
    }
    assert (report["handled_directly"], report["transferred"]) == (425, 418)
    assert report["callbacks"] == 246
    top = [(c["code"], c["count"]) for c in report["top_categories"][:3]]
    assert top == [("property_services", 63), ("consumer_rights", 43), ("noise", 41)]
    assert report["top_categories"][3]["count"] < 41
    assert report["total"] == 899


def test_other_days_are_empty_and_bad_dates_refused(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    headers = bearer(demo_tokens["viewer"])
    empty = demo_http.get("/api/v1/reports/daily", params={"date": "2026-11-17"}, headers=headers)
    assert empty.json()["calls"] == 0 and empty.json()["top_categories"] == []
    bad = demo_http.get("/api/v1/reports/daily", params={"date": "18/11/2026"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "date"
    missing = demo_http.get("/api/v1/reports/daily", headers=headers)
    assert missing.status_code == 422 and missing.json()["field"] == "date"
