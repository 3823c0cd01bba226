"""Verification (核查) in the loop: asked by a dispatcher or the unit, confirmed or rejected
on the spot by the grid's worker, and required before closing for some categories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gis.settings import get_settings
from tests.field.conftest import FieldCity


@pytest.fixture
def sanitation_needs_verification() -> Iterator[None]:
    """``WANGGE_LOOP_VERIFY_CATEGORIES=sanitation`` for this test (the server runs in this
    process and reads the settings on each step)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("WANGGE_LOOP_VERIFY_CATEGORIES", "sanitation, drainage")
    get_settings.cache_clear()
    assert get_settings().loop.verify_categories == ["sanitation", "drainage"]
    yield
    mp.undo()
    get_settings.cache_clear()


def kinds(city: FieldCity, incident_id: int) -> list[tuple[str, str | None, str | None]]:
    rows = city.rows(
        "SELECT kind, to_status, detail->>'step' FROM incident_events WHERE incident_id = :i"
        " ORDER BY id",
        i=incident_id,
    )
    return [(r[0], r[1], r[2]) for r in rows]


def test_round_trip(field_city: FieldCity, sanitation_needs_verification: None) -> None:
    city, dispatcher = field_city, field_city.tokens["dispatcher"]
    iid, unit = city.replied(0)
    worker = city.worker_token(0, name="网格员甲")

    # Before anyone asks: the worker has nothing to decide, and closing waits.
    assert city.step(worker, iid, to="verify_confirm").status_code == 409
    refused = city.step(dispatcher, iid, to="closed")
    assert refused.status_code == 409, refused.text
    assert refused.json()["field"] == "verification"
    assert "sanitation" in refused.json()["error"] and "verify_request" in refused.json()["error"]

    asked = city.ok_step(dispatcher, iid, to="verify_request", note="请现场核实垃圾是否清运")
    assert asked["status"] == "replied"
    waiting = [r for r in asked["requests"] if r["kind"] == "verification"]
    assert [(r["state"], r["reason"]) for r in waiting] == [("pending", "请现场核实垃圾是否清运")]
    assert city.step(dispatcher, iid, to="verify_request").status_code == 409  # one at a time
    # The worker sees the step on the card and the task in its list.
    card = city.get(worker, f"/api/v1/incidents/{iid}").json()
    assert set(card["allowed_steps"]) == {"verify_confirm", "verify_reject"}
    tasks = city.get(worker, "/api/v1/field/tasks").json()["verifications"]
    assert [t["incident_id"] for t in tasks] == [iid]
    assert tasks[0]["note"] == "请现场核实垃圾是否清运"
    assert tasks[0]["asked_by"] == "field-dispatcher"

    # Rejected with a note: back to the unit, in progress, its reply withdrawn.
    no_note = city.step(worker, iid, to="verify_reject")
    assert no_note.status_code == 422 and no_note.json()["field"] == "note"
    back = city.ok_step(worker, iid, to="verify_reject", note="楼后仍有两堆垃圾")
    assert back["status"] == "in_progress" and back["reply"] is None
    assert back["unit_code"] is not None
    assert city.get(worker, "/api/v1/field/tasks").json()["verifications"] == []
    assert city.step(dispatcher, iid, to="closed").status_code == 409  # not replied any more

    # The unit replies again, the unit itself asks again, the worker confirms.
    unit_card = city.ok_step(unit, iid, to="replied", note="已全部清运完毕")
    assert "verify_request" in unit_card["allowed_steps"]
    again = city.ok_step(unit, iid, to="verify_request", note="二次核查")
    assert [r["state"] for r in again["requests"] if r["kind"] == "verification"] == [
        "refused",
        "pending",
    ]
    confirmed = city.ok_step(worker, iid, to="verify_confirm", note="现场已清理干净")
    assert confirmed["status"] == "replied"
    decided = [r for r in confirmed["requests"] if r["kind"] == "verification"][-1]
    assert decided["state"] == "approved" and decided["decided_by"] == "网格员甲"

    closed = city.ok_step(dispatcher, iid, to="closed")
    assert closed["status"] == "closed"
    # Every step logged, the refused ones not at all.
    assert kinds(city, iid) == [
        ("received", "received", None),
        ("transition", "dispatched", "dispatch"),
        ("transition", "in_progress", "accept"),
        ("transition", "replied", "reply"),
        ("verification_request", None, None),
        ("transition", "in_progress", "verify_reject"),
        ("transition", "replied", "reply"),
        ("verification_request", None, None),
        ("verification_decision", None, None),
        ("transition", "closed", None),
    ]
    note = city.scalar(
        "SELECT note FROM incident_events WHERE incident_id = :i AND detail->>'step' ="
        " 'verify_reject'",
        i=iid,
    )
    assert note == "楼后仍有两堆垃圾"


def test_a_confirmation_must_follow_the_latest_reply(
    field_city: FieldCity, sanitation_needs_verification: None
) -> None:
    """A case reopened after a confirmed verification needs a new one to close again."""
    city, dispatcher = field_city, field_city.tokens["dispatcher"]
    iid, unit = city.replied(1)
    worker = city.worker_token(1)
    city.ok_step(dispatcher, iid, to="verify_request")
    city.ok_step(worker, iid, to="verify_confirm")
    city.ok_step(dispatcher, iid, to="closed")
    city.ok_step(dispatcher, iid, to="rating", rating=1)
    city.ok_step(dispatcher, iid, to="reopen", note="居民不满意")
    city.ok_step(unit, iid, to="in_progress")
    city.ok_step(unit, iid, to="replied", note="再次清运")
    refused = city.step(dispatcher, iid, to="closed")
    assert refused.status_code == 409 and refused.json()["field"] == "verification"


def test_closing_waits_only_for_listed_categories(
    field_city: FieldCity, sanitation_needs_verification: None
) -> None:
    city, dispatcher = field_city, field_city.tokens["dispatcher"]
    iid, _ = city.replied(2, category="noise")
    # Asked but not answered: a category that does not need it closes anyway, and the
    # waiting request is closed with it.
    city.ok_step(dispatcher, iid, to="verify_request")
    closed = city.ok_step(dispatcher, iid, to="closed")
    assert closed["status"] == "closed"
    assert [r["state"] for r in closed["requests"] if r["kind"] == "verification"] == ["refused"]


def test_without_the_setting_nothing_waits(field_city: FieldCity) -> None:
    assert get_settings().loop.verify_categories == []
    iid, _ = field_city.replied(3)
    assert field_city.ok_step(field_city.tokens["dispatcher"], iid, to="closed")["status"] == (
        "closed"
    )


def test_roles_grids_and_states_are_refused(field_city: FieldCity) -> None:
    city, dispatcher = field_city, field_city.tokens["dispatcher"]
    iid, unit = city.replied(4)
    own, other = city.worker_token(4), city.worker_token(5)

    # Asking: dispatchers and the unit, never a viewer (no step at all) or a grid worker.
    r = city.step(city.tokens["viewer"], iid, to="verify_request")
    assert r.status_code == 403 and "viewer" in r.json()["error"]
    r = city.step(own, iid, to="verify_request")
    assert r.status_code == 403, r.text
    assert "grid_worker" in r.json()["error"] and "verify_request" in r.json()["error"]
    city.ok_step(unit, iid, to="verify_request")

    # Deciding: only the worker of the incident's grid; dispatchers and units may not.
    deciders = ((dispatcher, "dispatcher"), (unit, "unit"), (city.tokens["admin"], "admin"))
    for token, role in deciders:
        r = city.step(token, iid, to="verify_confirm")
        assert r.status_code == 403, r.text
        assert role in r.json()["error"] and "verify_confirm" in r.json()["error"]
    r = city.step(other, iid, to="verify_confirm")
    assert r.status_code == 403 and city.grid_code(4) in r.json()["error"]
    assert city.get(other, f"/api/v1/incidents/{iid}").status_code == 403
    # A grid worker takes no other step, even on its own grid's case.
    r = city.step(own, iid, to="closed")
    assert r.status_code == 403 and "grid_worker" in r.json()["error"]

    # Wrong state: before the reply, and after closing.
    fresh = city.report(4)
    r = city.step(dispatcher, fresh["id"], to="verify_request")
    assert r.status_code == 409 and "received" in r.json()["error"]
    r = city.step(own, fresh["id"], to="verify_confirm")
    assert r.status_code == 409
    assert city.get(own, f"/api/v1/incidents/{fresh['id']}").json()["allowed_steps"] == []
    # Nothing was written by the refusals.
    assert city.scalar("SELECT count(*) FROM incident_requests WHERE incident_id = :i", i=iid) == 1
    assert (
        city.scalar("SELECT count(*) FROM incident_requests WHERE incident_id = :i", i=fresh["id"])
        == 0
    )
