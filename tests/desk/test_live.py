"""Live updates on the desk: the event stream moves the queue, the counts and the open
card of every desk as cases are taken in and stepped on elsewhere; without the stream
the desk says so and refreshes on its timer."""

from __future__ import annotations

from collections.abc import Callable

from tests.desk.conftest import DeskCity, DeskPage


def count(p: DeskPage, status: str) -> int:
    return int(p.page.inner_text(f"#dk-tab-{status} .dk-count"))


def test_the_stream_moves_queues_counts_and_the_open_card(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    watcher = desk(desk_city.tokens["viewer"])
    unit = desk(desk_city.tokens["ecology"])
    for p in (watcher, unit):
        p.open()
        p.page.wait_for_function("() => window.wangge.live === 'stream'")
    watcher.tab("received")
    unit.tab("dispatched")
    assert "实时" in watcher.page.inner_text("#dk-live")
    received = count(watcher, "received")

    inc = desk_city.new_incident(80)
    iid = inc["id"]
    watcher.page.wait_for_selector(f"#dk-item-{iid}")
    watcher.page.wait_for_function(
        "n => +document.querySelector('#dk-tab-received .dk-count').textContent === n",
        arg=received + 1,
    )
    watcher.page.click(f"#dk-item-{iid}")
    watcher.card_is(iid, "received")

    desk_city.post(
        desk_city.tokens["dispatcher"],
        f"/api/v1/incidents/{iid}/transitions",
        {"to": "dispatched", "unit_code": "ecology"},
    )
    # The open card follows the case; the queue drops it from this tab.
    watcher.card_is(iid, "dispatched")
    watcher.page.wait_for_selector(f"#dk-item-{iid}", state="detached")
    # The unit finds it in its own queue.
    unit.page.wait_for_selector(f"#dk-item-{iid}")
    assert watcher.page.evaluate("() => window.wangge.lastEvent.incident_id") == iid
    for p in (watcher, unit):
        assert p.outside == [] and p.errors == []


def test_without_the_stream_the_desk_polls(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    p = desk(desk_city.tokens["dispatcher"])
    p.context.route("**/api/v1/events/stream*", lambda route: route.abort("connectionrefused"))
    p.open()
    p.page.wait_for_function("() => window.wangge.live === 'poll'")
    assert "15" in p.page.inner_text("#dk-live")
    p.tab("received")
    iid = desk_city.new_incident(82)["id"]
    # The timer brings it in (every 15 s) without the page being reloaded.
    p.page.wait_for_selector(f"#dk-item-{iid}")
    assert [e for e in p.errors if "ERR_CONNECTION_REFUSED" not in e] == []
