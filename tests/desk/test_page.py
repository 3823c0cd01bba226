"""The desk in headless Chromium, offline: words not codes, Beijing time, SLA countdowns,
keyboard navigation, and only the steps a role may take in each status."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gis.incidents.words import WORDS
from gis.incidents.workflow import Actor, allowed_steps
from gis.models import CHANNELS, STATUSES
from tests.desk.conftest import DeskCity, DeskPage, beijing
from tests.maps.test_pages import EXTERNAL

# Codes a person must never read: statuses, channels, steps and unit kinds.
CODES = sorted(
    {*STATUSES, *CHANNELS, *WORDS["step"]["en"], *WORDS["unit_kind"]["en"], "transition"}
)


def leaked_codes(text: str, lang: str) -> set[str]:
    """Codes in ``text``: any of them in Chinese; in English those no English word spells
    (``in_progress``, ``hotline_call``: the snake_case ones)."""
    candidates = CODES if lang == "zh" else [c for c in CODES if "_" in c]
    return {c for c in candidates if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)}


def in_progress_case(city: DeskCity, offset: int) -> dict[str, Any]:
    inc = city.new_incident(offset)
    city.post(
        city.tokens["dispatcher"],
        f"/api/v1/incidents/{inc['id']}/transitions",
        {"to": "dispatched"},
    )
    return city.post(
        city.tokens["ecology"],
        f"/api/v1/incidents/{inc['id']}/transitions",
        {"to": "in_progress", "handler": "赵工"},
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_words_not_codes_beijing_time_and_offline(
    desk_city: DeskCity, desk: Callable[..., DeskPage], lang: str
) -> None:
    inc = in_progress_case(desk_city, 10 if lang == "zh" else 11)
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open("" if lang == "zh" else "?lang=en")
    assert page.inner_text("h1") == ("调度台" if lang == "zh" else "Dispatch desk")
    p.tab("in_progress")
    p.show(inc["id"])
    status = page.inner_text("#dk-card-status")
    assert status == WORDS["status"][lang]["in_progress"]
    body = page.inner_text("body")
    assert leaked_codes(body, lang) == set(), body
    # Beijing time whatever the browser's zone (New York here, 12 or 13 hours behind).
    received = beijing(str(inc["received_at"]))
    assert received in page.inner_text("#dk-card")
    first = page.inner_text("#dk-timeline li:first-child time")
    assert first == received
    step_word = WORDS["step"][lang]["accept"]
    assert step_word in page.inner_text("#dk-timeline")
    assert WORDS["channel"][lang]["hotline_call"] in page.inner_text("#dk-card")
    if lang == "zh":
        grid = inc["assignment"]["grid_code"]
        page.wait_for_function(f"() => window.wangge.loaded.outline === '{grid}'")
        page.wait_for_function("() => window.wangge.loaded.grids")
        assert page.evaluate("() => window.wangge.layers.outline.getLayers().length") == 1
        shot = p.shot("desk-zh")
        assert shot.stat().st_size > 50_000
    assert EXTERNAL.findall(page.content()) == []
    index = page.goto(f"{desk_city.base_url}/maps/?lang={lang}")
    assert index is not None and index.ok
    assert page.get_attribute("#wg-desk-link", "href") == f"/desk?lang={lang}"
    assert p.outside == [] and p.errors == []


def test_sla_countdown_red_when_overdue(desk_city: DeskCity, desk: Callable[..., DeskPage]) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=20)).isoformat()
    late = desk_city.new_incident(20, received_at=long_ago)
    fresh = desk_city.new_incident(21)
    assert late["overdue"] is True and fresh["overdue"] is False
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    p.tab("overdue")
    row = f"#dk-item-{late['id']}"
    page.wait_for_selector(row)
    badge = page.locator(f"{row} .dk-sla")
    assert "dk-late" in (badge.get_attribute("class") or "")
    assert badge.inner_text().startswith("超期")
    colour = badge.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(224, 0, 0)"
    assert fresh["id"] not in [
        int(i) for i in page.eval_on_selector_all(".dk-item", "l => l.map(e => e.dataset.id)")
    ]
    assert page.get_attribute("#dk-tab-overdue", "class") and "dk-alert" in (
        page.get_attribute("#dk-tab-overdue", "class") or ""
    )
    p.tab("received")
    page.wait_for_selector(f"#dk-item-{fresh['id']}")
    fresh_badge = page.locator(f"#dk-item-{fresh['id']} .dk-sla")
    assert "dk-late" not in (fresh_badge.get_attribute("class") or "")
    assert fresh_badge.inner_text().startswith("剩余")
    assert fresh_badge.evaluate("b => getComputedStyle(b).backgroundColor") != colour
    assert p.errors == []


def test_keyboard_moves_through_the_queue(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    for offset in (30, 31, 32):
        desk_city.new_incident(offset)
    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    p.tab("received")
    page.wait_for_function("() => document.querySelectorAll('.dk-item').length >= 3")
    ids = [int(i) for i in page.eval_on_selector_all(".dk-item", "l => l.map(e => e.dataset.id)")]
    page.click(f"#dk-item-{ids[0]}")
    p.card_is(ids[0])
    page.locator("body").press("j")
    p.card_is(ids[1])
    assert page.get_attribute(f"#dk-item-{ids[1]}", "aria-selected") == "true"
    assert page.get_attribute(f"#dk-item-{ids[0]}", "aria-selected") == "false"
    page.keyboard.press("ArrowDown")
    p.card_is(ids[2])
    page.keyboard.press("k")
    p.card_is(ids[1])
    page.keyboard.press("ArrowUp")
    p.card_is(ids[0])
    page.keyboard.press("k")  # the first stays first
    p.card_is(ids[0])
    page.keyboard.press("2")
    page.wait_for_function("() => document.getElementById('dk-list').dataset.tab === 'dispatched'")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "dk-f-search"
    page.keyboard.press("Escape")
    page.locator("#dk-list").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")
    page.wait_for_selector("#dk-intake:not([hidden])")
    assert page.evaluate("() => document.activeElement.id") == "dk-in-category"
    assert p.errors == []


def expected(
    status: str, role: str, unit: str | None, case_unit: str | None, rating: int | None
) -> list[str]:
    """What the card offers: the workflow's steps for the role, less those the case's own
    data rules out (no pending extension to decide; a satisfied case is not reopened)."""
    steps = allowed_steps(status, Actor("x", role, unit), case_unit)
    drop = {"extension_approve", "extension_refuse"}
    if rating not in (1, 2):
        drop.add("reopen")
    if rating is not None:
        drop.add("rating")
    return [s for s in steps if s not in drop]


def test_each_role_sees_only_its_steps_in_each_status(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    tokens = desk_city.tokens
    inc = desk_city.new_incident(40)
    iid = int(inc["id"])
    dispatcher, ecology, urban, viewer = (
        desk(tokens["dispatcher"]),
        desk(tokens["ecology"]),
        desk(tokens["urban"]),
        desk(tokens["viewer"]),
    )
    for p in (dispatcher, ecology, urban, viewer):
        p.open()
    assert viewer.page.is_hidden("#dk-new") and ecology.page.is_hidden("#dk-new")
    assert dispatcher.page.is_visible("#dk-new")

    def step(token: str, **body: object) -> dict[str, Any]:
        return desk_city.post(token, f"/api/v1/incidents/{iid}/transitions", body)

    path = [
        ("received", None),
        ("dispatched", lambda: step(tokens["dispatcher"], to="dispatched")),
        ("in_progress", lambda: step(tokens["ecology"], to="in_progress")),
        ("replied", lambda: step(tokens["ecology"], to="replied", note="已处理")),
        ("closed", lambda: step(tokens["dispatcher"], to="closed")),
        ("closed", lambda: step(tokens["dispatcher"], to="callback", rating=2)),
    ]
    for status, move in path:
        case_unit: str | None = None
        if move is not None:
            case_unit = move()["unit_code"]
        rating = desk_city.scalar("SELECT rating FROM incidents WHERE id = :i", i=iid)
        dispatcher.show(iid)
        dispatcher.card_is(iid, status)
        assert dispatcher.steps() == expected(status, "dispatcher", None, case_unit, rating), status
        if status == "received":
            assert (
                dispatcher.page.inner_text("#dk-actions button[data-step='closed']") == "直接办结"
            )
        viewer.show(iid)
        viewer.card_is(iid, status)
        assert viewer.steps() == [] and "只读" in viewer.page.inner_text("#dk-no-actions")
        if case_unit == "ecology":
            ecology.show(iid)
            ecology.card_is(iid, status)
            mine = expected(status, "unit", "ecology", case_unit, rating)
            assert ecology.steps() == mine, status
            # Another unit neither sees the case nor acts on it.
            urban.page.fill("#dk-f-search", f"#{iid}")
            urban.page.press("#dk-f-search", "Enter")
            urban.message("无权办理")
            assert urban.page.get_attribute("#dk-card", "data-id") != str(iid)
    assert "reopen" in dispatcher.steps()
    # A unit's queue holds its own cases only.
    ecology.tab("dispatched")
    listed = ecology.page.eval_on_selector_all(".dk-item", "l => l.map(e => +e.dataset.id)")
    own = desk_city.get(
        tokens["dispatcher"], "/api/v1/incidents", unit="ecology", status="dispatched", limit=1000
    )
    assert set(listed) <= {i["id"] for i in own["items"]}
    for p in (dispatcher, ecology, viewer):
        assert p.outside == [] and p.errors == []


def test_a_visitor_reads_without_steps_and_is_offered_sign_in(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    iid = desk_city.new_incident(44)["id"]
    p = desk(None)  # anonymous reads are on by default
    page = p.open()
    assert page.inner_text("#dk-who") == "未登录"
    assert (
        page.get_attribute("#dk-sign-in", "href") == "/maps/sign-in?lang=zh&next=/desk%3Flang%3Dzh"
    )
    assert page.is_hidden("#dk-new")
    p.show(iid)
    assert p.steps() == [] and "只读" in page.inner_text("#dk-no-actions")
    card = page.inner_text("#dk-card")
    assert "137****1111" in card and "13700001111" not in card and "王五" not in card
    assert p.outside == [] and p.errors == []


def test_load_more_adds_the_next_page_of_the_tab(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    token = desk_city.tokens["dispatcher"]
    first, second = (
        desk_city.get(token, "/api/v1/incidents", status="closed", sort="due", limit=200,
                      offset=offset)["items"]
        for offset in (0, 200)
    )  # fmt: skip
    assert len(first) == 200 and second, "the demo month closes more than 200 cases"
    p = desk(token)
    page = p.open()
    p.tab("closed")
    page.wait_for_function("() => document.querySelectorAll('.dk-item').length === 200")
    assert page.is_visible("#dk-more")
    page.click("#dk-more")
    page.wait_for_function("() => document.querySelectorAll('.dk-item').length > 200")
    ids = [int(i) for i in page.eval_on_selector_all(".dk-item", "l => l.map(e => e.dataset.id)")]
    assert ids == [i["id"] for i in first + second]
    assert page.is_visible("#dk-more") == (len(second) == 200)
    assert p.errors == []
