"""The daily report reproduces the hotline's day (docs/rules.md, "Xining reference figures")
on the demo city."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def test_days_outside_the_demo_month_are_empty_and_bad_dates_refused(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    headers = bearer(demo_tokens["viewer"])
    day_before = demo_http.get(
        "/api/v1/reports/daily", params={"date": "2026-11-17"}, headers=headers
    ).json()
    assert day_before["calls"] > 0 and day_before["handled_directly"] > 0
    for day in ("2026-10-18", "2026-11-19"):
        empty = demo_http.get("/api/v1/reports/daily", params={"date": day}, headers=headers)
        assert empty.json()["calls"] == 0 and empty.json()["top_categories"] == []
    bad = demo_http.get("/api/v1/reports/daily", params={"date": "18/11/2026"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "date"
    missing = demo_http.get("/api/v1/reports/daily", headers=headers)
    assert missing.status_code == 422 and missing.json()["field"] == "date"


PUBLISHED = (
    "11月18日，12345政务服务便民热线接听群众来电诉求843件次，网民留言56件（西宁12345微信公众号46件、"
    "市长信箱7件、青海政务服务网2件、人民网1件），直接办理425件，转交责任单位办理418件，回访量246件。"
    "热点问题：1. 物业服务63件，2. 消费维权43件，3. 噪音扰民41件。"
)


def test_the_bulletin_of_the_demo_day_is_the_published_one(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    r = demo_http.get(
        "/api/v1/reports/daily.txt",
        params={"date": HOTLINE_DAY.isoformat()},
        headers=bearer(demo_tokens["viewer"]),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == PUBLISHED


def test_a_day_in_the_future_is_refused(
    demo_http: httpx.Client, demo_tokens: dict[str, str]
) -> None:
    headers = bearer(demo_tokens["viewer"])
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    for path in ("/api/v1/reports/daily", "/api/v1/reports/daily.txt"):
        r = demo_http.get(path, params={"date": future}, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == "date", r.text
        assert "future" in r.json()["error"]
        bad = demo_http.get(path, params={"date": "2026-13-01"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["field"] == "date"
