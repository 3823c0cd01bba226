"""The whole 12345 loop on the desk, in headless Chromium: a call taken on one desk shows
up on a second desk and in the unit's queue; dispatch, return by the unit, re-dispatch,
acceptance, extension asked and approved, reply, close, callback with an unsatisfied
rating, reopen. Refusals by state and role come back from the server and are shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from gis.db import session_scope
from gis.incidents.due import due_day, local_date
from gis.tokens import create_token
from tests.desk.conftest import DeskCity, DeskPage, beijing


def second_dispatcher(city: DeskCity) -> str:
    with session_scope(city.engine) as session:
        plain, _ = create_token(session, "dispatcher", "desk-second-dispatcher")
    return plain


def due_of(city: DeskCity, iid: int) -> datetime:
    value = city.scalar("SELECT due_at FROM incidents WHERE id = :i", i=iid)
    assert isinstance(value, datetime)
    return value


def take_call(a: DeskPage, lon: float, lat: float) -> int:
    """Desk ``a`` takes a noise call at a pasted point; returns the new case's number."""
    a.page.locator("body").press("n")
    a.page.click("#dk-in-category")
    a.page.keyboard.type("zyrm")
    a.page.keyboard.press("Enter")
    a.page.fill("#dk-in-description", "广场舞音响声音太大")
    a.page.select_option("#dk-in-crs", "cgcs2000")
    a.page.fill("#dk-in-coords", f"{lon:.7f}, {lat:.7f}")
    a.page.press("#dk-in-coords", "Enter")
    a.page.wait_for_function("() => window.wangge.loaded.locate")
    a.page.fill("#dk-in-name", "孙八")
    a.page.press("#dk-in-name", "Enter")
    saved = re.search(r"#(\d+)", a.message("已受理"))
    assert saved is not None
    iid = int(saved.group(1))
    a.card_is(iid, "received")
    return iid


def return_and_dispatch_again(a: DeskPage, unit: DeskPage, iid: int) -> None:
    a.take("dispatched", unit="ecology")
    a.card_is(iid, "dispatched")
    assert "生态环境局" in a.page.inner_text("#dk-card")
    unit.page.wait_for_selector(f"#dk-item-{iid}")  # in the unit's queue
    unit.show(iid)
    assert unit.steps() == ["in_progress", "return", "extension_request", "handler"]
    unit.take("return", note="不属于本单位职责")
    unit.card_is(iid, "received")
    unit.message("退单")
    assert unit.steps() == []
    a.show(iid)
    a.card_is(iid, "received")
    assert "不属于本单位职责" in a.page.inner_text("#dk-timeline")
    a.take("dispatched", unit="ecology")
    a.card_is(iid, "dispatched")


def accept_and_extend(city: DeskCity, a: DeskPage, unit: DeskPage, iid: int) -> None:
    unit.show(iid)
    unit.take("in_progress", handler="王工")
    unit.card_is(iid, "in_progress")
    assert "王工" in unit.page.inner_text("#dk-card")
    due_before = due_of(city, iid)
    unit.take("extension_request", days="3", note="需协调物业")
    unit.page.wait_for_selector(".dk-req-pending")
    assert "extension_request" not in unit.steps()
    a.show(iid)
    assert {"extension_approve", "extension_refuse"} <= set(a.steps())
    a.take("extension_approve", note="同意延期")
    a.page.wait_for_selector(".dk-req-approved")
    due_after = due_of(city, iid)
    assert local_date(due_after) == due_day(local_date(due_before), 3)
    assert beijing(due_after.isoformat()) in a.page.inner_text("#dk-card")


def reply_close_and_reopen(city: DeskCity, a: DeskPage, unit: DeskPage, iid: int) -> None:
    unit.show(iid)
    unit.take("replied", note="已约谈广场舞队，调低音量")
    unit.card_is(iid, "replied")
    a.show(iid)
    a.take("closed", note="办结")
    a.card_is(iid, "closed")
    a.take("callback", rating="2", note="仍然很吵")
    a.page.wait_for_selector("#dk-actions button[data-step='reopen']")
    assert "不满意" in a.page.inner_text("#dk-card")
    a.take("reopen", note="群众不满意，重办")
    a.card_is(iid, "dispatched")
    assert city.scalar("SELECT reopen_count FROM incidents WHERE id = :i", i=iid) == 1


def test_the_whole_loop_across_two_desks_and_a_unit(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    code, lon, lat = desk_city.grid_point(70)
    a = desk(desk_city.tokens["dispatcher"])
    b = desk(second_dispatcher(desk_city))
    unit = desk(desk_city.tokens["ecology"])
    for p in (a, b, unit):
        p.open()
    b.tab("received")
    unit.tab("dispatched")

    iid = take_call(a, lon, lat)
    assert desk_city.scalar("SELECT grid_code FROM incidents WHERE id = :i", i=iid) == code
    # The second desk sees it in its queue without reloading the page.
    b.page.wait_for_selector(f"#dk-item-{iid}")

    return_and_dispatch_again(a, unit, iid)
    accept_and_extend(desk_city, a, unit, iid)
    reply_close_and_reopen(desk_city, a, unit, iid)

    assert desk_city.events(iid) == [
        ("received", None, None),
        ("transition", "dispatch", "ecology"),
        ("transition", "return", "ecology"),
        ("transition", "dispatch", "ecology"),
        ("transition", "accept", "ecology"),
        ("extension_request", None, "ecology"),
        ("extension_decision", None, "ecology"),
        ("transition", "reply", "ecology"),
        ("transition", None, "ecology"),
        ("callback", None, "ecology"),
        ("transition", "reopen", "ecology"),
    ]
    timeline = a.page.inner_text("#dk-timeline")
    steps = (
        "受理",
        "派单",
        "退单",
        "签收",
        "延期申请",
        "批准延期",
        "办理答复",
        "办结",
        "回访",
        "重办",
    )
    assert [w for w in steps if w not in timeline] == []
    for p in (a, b, unit):
        assert p.outside == [] and p.errors == []


def test_refusals_by_state_and_role_are_shown(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    inc = desk_city.new_incident(72)
    iid = inc["id"]
    a = desk(desk_city.tokens["dispatcher"])
    stale = desk(second_dispatcher(desk_city))
    a.open()
    stale.open()
    a.show(iid)
    stale.show(iid)
    a.take("dispatched", unit="ecology")
    a.card_is(iid, "dispatched")
    # The second desk still shows the case as received; its dispatch is refused (409).
    stale.take("dispatched", unit="housing")
    text = stale.message("当前状态不允许此操作")
    assert "cannot go from dispatched to dispatched" in text
    stale.card_is(iid, "dispatched")  # redrawn as the case now stands
    assert desk_city.scalar("SELECT unit_code FROM incidents WHERE id = :i", i=iid) == "ecology"

    unit = desk(desk_city.tokens["ecology"])
    unit.open()
    unit.show(iid)
    assert "in_progress" in unit.steps()
    a.take("transfer", unit="urban")
    a.card_is(iid, "dispatched")
    # The unit's page is stale: the case went to another unit, so accepting is refused.
    unit.take("in_progress")
    unit.message("无权办理")
    assert desk_city.scalar("SELECT accepted_at FROM incidents WHERE id = :i", i=iid) is None
    # The browser logs the refused requests; nothing else went wrong.
    assert [e for e in stale.errors if "409 (Conflict)" not in e] == []
    assert [e for e in unit.errors if "403 (Forbidden)" not in e] == []


def test_a_step_asks_for_the_token_first(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    iid = desk_city.new_incident(74)["id"]
    token = desk_city.tokens["dispatcher"]
    p = desk(token, typed=False)  # signed in: reads with the session cookie only
    page = p.open()
    p.show(iid)
    assert p.steps() == ["dispatched", "closed"]
    p.take("dispatched")
    p.message("令牌")
    assert page.evaluate("() => document.activeElement.id") == "dk-token"
    assert desk_city.scalar("SELECT status FROM incidents WHERE id = :i", i=iid) == "received"
    page.fill("#dk-token", "wg_not_a_token")
    page.press("#dk-token", "Enter")
    p.message("无效")
    page.fill("#dk-token", token)
    with page.expect_navigation():
        page.press("#dk-token", "Enter")
    page.wait_for_function("() => window.wangge && window.wangge.loaded.desk")
    assert page.is_hidden("#dk-token-form") and page.is_visible("#dk-token-clear")
    assert "调度员" in page.inner_text("#dk-who")
    p.show(iid)
    p.take("dispatched")
    p.card_is(iid, "dispatched")
    assert desk_city.scalar("SELECT status FROM incidents WHERE id = :i", i=iid) == "dispatched"
