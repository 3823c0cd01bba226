"""The 12345 loop over HTTP, and due dates in Chinese working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from gis.incidents.due import due_at, due_day, is_overdue, is_working_day
from gis.incidents.workflow import TRANSITIONS
from tests.incidents.conftest import bearer, new_external_id, post


def _new(http: httpx.Client, token: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = post(http, token, {**body, "external_id": new_external_id("wf"), **extra})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def _step(http: httpx.Client, token: str, incident_id: int, **body: Any) -> httpx.Response:
    return http.post(
        f"/api/v1/incidents/{incident_id}/transitions", json=body, headers=bearer(token)
    )


def test_the_full_loop_is_logged_with_who_and_when(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    token = tokens["dispatcher"]
    incident = _new(http, token, incident_body)
    for to in ("dispatched", "in_progress", "replied", "closed"):
        r = _step(http, token, incident["id"], to=to, note=f"now {to}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to
    r = _step(http, token, incident["id"], to="callback", rating=4, note="resident satisfied")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["callback_at"] is not None and done["rating"] == 4
    assert done["closed_at"] is not None and done["handled_directly"] is False
    events = done["events"]
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in events] == [
        ("received", None, "received"),
        ("transition", "received", "dispatched"),
        ("transition", "dispatched", "in_progress"),
        ("transition", "in_progress", "replied"),
        ("transition", "replied", "closed"),
        ("callback", None, None),
    ]
    assert all(e["actor"] == "test-dispatcher" for e in events)
    times = [datetime.fromisoformat(e["at"]) for e in events[1:]]
    assert times == sorted(times)
    assert events[-1]["detail"] == {"rating": 4}
    r = _step(http, token, incident["id"], to="rating", rating=5)
    assert r.status_code == 200 and r.json()["rating"] == 5


def test_handled_directly_closes_from_received(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    token = tokens["dispatcher"]
    incident = _new(http, token, incident_body)
    refused = _step(http, token, incident["id"], to="closed")
    assert refused.status_code == 409
    assert "received" in refused.json()["error"] and "closed" in refused.json()["error"]
    r = _step(http, token, incident["id"], to="closed", handled_directly=True)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["handled_directly"] is True
    assert r.json()["events"][-1]["detail"] == {"handled_directly": True}


ALL_TARGETS = ("dispatched", "in_progress", "replied", "closed", "callback", "rating")
PATH = ("received", "dispatched", "in_progress", "replied", "closed")


@pytest.mark.parametrize("status", PATH)
def test_every_step_not_in_the_loop_is_refused_naming_from_and_to(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any], status: str
) -> None:
    token = tokens["dispatcher"]
    incident = _new(http, token, incident_body)
    for to in PATH[1 : PATH.index(status) + 1]:
        assert _step(http, token, incident["id"], to=to).status_code == 200
    allowed = set(TRANSITIONS[status]) | ({"callback", "rating"} if status == "closed" else set())
    for to in ALL_TARGETS:
        if to in allowed:
            continue
        r = _step(http, token, incident["id"], to=to, rating=3)
        assert r.status_code == 409, (status, to, r.text)
        assert status in r.json()["error"] and to in r.json()["error"]
    shown = http.get(f"/api/v1/incidents/{incident['id']}", headers=bearer(token)).json()
    assert shown["status"] == status
    assert len(shown["events"]) == PATH.index(status) + 1


def test_transition_input_is_checked_and_roles_enforced(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    incident = _new(http, tokens["dispatcher"], incident_body)
    bad = _step(http, tokens["dispatcher"], incident["id"], to="teleported")
    assert bad.status_code == 422 and bad.json()["field"] == "to"
    bad = _step(http, tokens["dispatcher"], incident["id"], to="dispatched", colour="red")
    assert bad.status_code == 422 and bad.json()["field"] == "colour"
    assert _step(http, tokens["viewer"], incident["id"], to="dispatched").status_code == 403
    assert _step(http, tokens["dispatcher"], 99_999_999, to="dispatched").status_code == 404


# -- due dates: chinese-calendar holds 2004-2026 ---------------------------------------


def test_national_day_2025_with_its_make_up_workdays() -> None:
    # 2025-09-28 (Sunday) and 2025-10-11 (Saturday) are make-up workdays; Oct 1-8 is a holiday.
    assert is_working_day(date(2025, 9, 28)) and is_working_day(date(2025, 10, 11))
    assert not is_working_day(date(2025, 10, 1)) and not is_working_day(date(2025, 10, 8))
    # Received Saturday 27 Sep: the Sunday make-up day is the first working day.
    assert due_day(date(2025, 9, 27), 1) == date(2025, 9, 28)
    # Received Tuesday 30 Sep with 2 working days: the holiday does not count.
    assert due_day(date(2025, 9, 30), 2) == date(2025, 10, 10)
    # Thursday 9 Oct, 2 days: Friday 10, then the Saturday make-up day 11.
    assert due_day(date(2025, 10, 9), 2) == date(2025, 10, 11)


def test_spring_festival_2026() -> None:
    # Holiday 15-23 Feb 2026; Saturday 14 Feb and Saturday 28 Feb are make-up workdays.
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))
    assert due_day(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert due_day(date(2026, 2, 14), 1) == date(2026, 2, 24)
    # 5 working days from Friday 13 Feb: 14, 24, 25, 26, 27; local end of day, stored in UTC.
    at = due_at(datetime(2026, 2, 13, 9, 0, tzinfo=UTC), 5)
    assert at == datetime(2026, 2, 27, 15, 59, 59, tzinfo=UTC)


def test_overdue_flag_and_filter(
    http: httpx.Client, tokens: dict[str, str], incident_body: dict[str, Any]
) -> None:
    token = tokens["dispatcher"]
    old = _new(http, token, incident_body, received_at="2025-09-30T10:00:00+08:00")
    fresh = _new(http, token, incident_body)
    # 5 working days across National Day: Oct 9, 10, 11 (make-up Saturday), 13, 14.
    assert old["due_at"] == "2025-10-14T15:59:59+00:00"
    assert old["overdue"] is True and fresh["overdue"] is False
    listed = http.get(
        "/api/v1/incidents", params={"overdue": "true", "limit": 1000}, headers=bearer(token)
    ).json()["items"]
    ids = {i["id"] for i in listed}
    assert old["id"] in ids and fresh["id"] not in ids
    assert all(i["overdue"] for i in listed)
    not_overdue = http.get(
        "/api/v1/incidents", params={"overdue": "false", "limit": 1000}, headers=bearer(token)
    ).json()["items"]
    assert fresh["id"] in {i["id"] for i in not_overdue}
    now = datetime.now(UTC)
    assert is_overdue(now - timedelta(hours=1), None, now)
    assert not is_overdue(now - timedelta(hours=1), now - timedelta(hours=2), now)


def test_a_formal_notice_comes_five_working_days_past_due() -> None:
    from gis.incidents.due import past_notice

    # Due Tuesday 30 Sep 2025; 5 working days later, across National Day: Oct 9, 10, 11
    # (make-up Saturday), 13, 14 — the notice is due after the end of Oct 14.
    due = due_at(datetime(2025, 9, 29, 10, 0, tzinfo=UTC), 1)
    assert due == datetime(2025, 9, 30, 15, 59, 59, tzinfo=UTC)
    assert not past_notice(due, None, datetime(2025, 10, 14, 12, 0, tzinfo=UTC), 5)
    assert past_notice(due, None, datetime(2025, 10, 14, 16, 0, tzinfo=UTC), 5)
    closed = datetime(2025, 10, 20, tzinfo=UTC)
    assert not past_notice(due, closed, datetime(2025, 10, 21, tzinfo=UTC), 5)
