"""Verification (核查) on the desk card: a dispatcher asks for it on a replied case, sees it
wait for the grid worker, sees the worker's answer in the card and the timeline, and closes."""

from __future__ import annotations

from collections.abc import Callable

from gis.db import session_scope
from gis.tokens import create_token
from tests.desk.conftest import DeskCity, DeskPage


def test_dispatcher_asks_for_verification_and_closes_after_it(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    city, dispatcher = desk_city, desk_city.tokens["dispatcher"]
    inc = city.new_incident(120)
    iid = inc["id"]
    city.post(dispatcher, f"/api/v1/incidents/{iid}/transitions", {"to": "dispatched"})
    unit = city.tokens["ecology"]
    city.post(unit, f"/api/v1/incidents/{iid}/transitions", {"to": "in_progress"})
    city.post(unit, f"/api/v1/incidents/{iid}/transitions", {"to": "replied", "note": "已整改"})
    grid = city.grid_point(120)[0]
    with session_scope(city.engine) as session:
        worker, _ = create_token(session, "grid_worker", "网格员丁", grid_codes=[grid])

    d = desk(dispatcher)
    d.open()
    d.show(iid)
    d.card_is(iid, "replied")
    assert "verify_request" in d.steps()
    assert "verify_confirm" not in d.steps() and "verify_reject" not in d.steps()
    d.take("verify_request", note="请网格员现场核实")
    d.page.wait_for_selector("#dk-verifications li.dk-req-pending")
    assert "待网格员核查" in d.page.inner_text("#dk-verifications")
    assert "请网格员现场核实" in d.page.inner_text("#dk-verifications")
    assert "verify_request" not in d.steps()  # one waits at a time

    # The worker confirms on the spot (the field page's call); the desk shows the answer.
    confirm = {"to": "verify_confirm", "note": "现场已无噪声"}
    city.post(worker, f"/api/v1/incidents/{iid}/transitions", confirm)
    d.show(iid)
    d.page.wait_for_selector("#dk-verifications li.dk-req-approved")
    verified = d.page.inner_text("#dk-verifications")
    assert "核查属实" in verified and "网格员丁" in verified and "现场已无噪声" in verified
    assert "核查属实" in d.page.inner_text("#dk-card")  # the timeline names the step
    d.take("closed")
    d.card_is(iid, "closed")
    assert d.errors == [] and d.outside == []
