"""My tasks on the field page: a verification asked by a dispatcher is seen by the worker of
the incident's grid, confirmed on the spot with a photo or rejected with a reason; a worker
of another grid never sees it and is refused; other roles get no field page."""

from __future__ import annotations

from collections.abc import Callable

from tests.field_page.conftest import FieldPage, PageCity, has_exif, jpeg_with_gps, photo_file

INCIDENT_COLOUR = "#e6550d"  # field-map.js
# The worker's decisions on the incident's log: (confirmed, who), oldest first.
STEPS_SQL = (
    "SELECT detail->>'confirmed', actor FROM incident_events WHERE incident_id = :i"
    " AND detail ? 'confirmed' ORDER BY id"
)


def _task(p: FieldPage, incident_id: int) -> str:
    """Open my tasks and wait for the verification of ``incident_id``; its selector."""
    p.tab("tasks")
    selector = f"#fd-verifications li[data-incident='{incident_id}']"
    p.page.wait_for_selector(selector)
    return selector


def test_verification_round_trip_from_the_page(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    city, dispatcher = page_city, page_city.tokens["dispatcher"]
    iid, unit = city.replied(6, "sanitation")
    city.ok_step(dispatcher, iid, to="verify_request", note="请现场核实垃圾是否清运")
    p = phone(city.worker_token(6, name="网格员丙"))
    page = p.open()
    # The case is on the map of my grid, drawn as an open incident, not as a building.
    drawn = page.evaluate(
        "id => window.wangge.layers.area.getLayers().filter(l =>"
        " l.feature.properties.kind === 'incident' && l.feature.properties.id === id)"
        ".map(l => l.options.fillColor)",
        iid,
    )
    assert drawn == [INCIDENT_COLOUR]
    task = _task(p, iid)
    text = page.inner_text(task)
    assert "请现场核实垃圾是否清运" in text and "field-dispatcher" in text
    assert page.inner_text("#fd-tasks-count") == "1"
    # The incident is in my grid's open list too.
    assert page.is_visible(f"#fd-incidents li[data-incident='{iid}']")

    # Rejected with a reason: a reason is needed, and the case goes back to the unit.
    page.click(f"{task} .fd-reject")
    page.click(f"{task} .fd-reject-go")
    p.message("请填写理由")
    page.fill(f"{task} .fd-reject-note", "楼后仍有两堆垃圾")
    page.click(f"{task} .fd-reject-go")
    p.message("已提交核实")
    page.wait_for_selector(f"{task}", state="detached")
    assert city.scalar("SELECT status FROM incidents WHERE id = :i", i=iid) == "in_progress"
    assert city.rows(STEPS_SQL, i=iid) == [("false", "网格员丙")]

    # The unit replies again, the dispatcher asks again, the worker confirms with a photo.
    city.ok_step(unit, iid, to="replied", note="已全部清运")
    city.ok_step(dispatcher, iid, to="verify_request", note="再次核实")
    page.reload()
    page.wait_for_function("() => window.wangge.loaded.field === true")
    task = _task(p, iid)
    page.click(f"{task} .fd-confirm")
    photo = jpeg_with_gps((40, 160, 60))
    page.set_input_files(
        f"{task} .fd-verify-photos",
        files=[photo_file("after.jpg", photo)],
    )
    page.click(f"{task} .fd-confirm-go")
    p.message("已提交核实")
    page.wait_for_selector(task, state="detached")
    assert page.inner_text("#fd-verifications") == "暂无核实任务"
    assert city.rows(STEPS_SQL, i=iid) == [
        ("false", "网格员丙"),
        ("true", "网格员丙"),
    ]
    assert (
        city.scalar(
            "SELECT state FROM incident_requests WHERE incident_id = :i AND kind = 'verification'"
            " ORDER BY id DESC LIMIT 1",
            i=iid,
        )
        == "approved"
    )
    photos = city.rows("SELECT data, created_by FROM incident_media WHERE incident_id = :i", i=iid)
    assert len(photos) == 1 and photos[0][1] == "网格员丙"
    assert not has_exif(bytes(photos[0][0]))
    assert p.outside == [] and p.errors == []


def test_other_grids_and_roles_are_refused(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    city, dispatcher = page_city, page_city.tokens["dispatcher"]
    iid, _ = city.replied(7, "sanitation")
    city.ok_step(dispatcher, iid, to="verify_request", note="请核实")
    stranger = city.worker_token(8, name="网格员丁")
    # The worker of another grid: no such task on its page, and the step is refused.
    p = phone(stranger)
    page = p.open()
    p.tab("tasks")
    page.wait_for_function("() => window.wangge.loaded.tasks !== undefined")
    assert page.query_selector(f"#fd-verifications li[data-incident='{iid}']") is None
    assert page.query_selector(f"#fd-incidents li[data-incident='{iid}']") is None
    grid = city.grid_code(7)
    # Asked from the page itself (the worker's own token), the server refuses it.
    answer = page.evaluate(
        "id => FD.api('/api/v1/incidents/' + id + '/transitions', {to: 'verify_confirm'})", iid
    )
    assert answer["status"] == 403 and grid in answer["body"]["error"]
    photo = page.evaluate(
        "id => FD.upload('/api/v1/incidents/' + id + '/media',"
        " new Blob([new Uint8Array([255, 216, 255])], {type: 'image/jpeg'}), 'x.jpg')",
        iid,
    )
    assert photo["status"] == 403
    assert city.rows(STEPS_SQL, i=iid) == []
    assert city.scalar("SELECT count(*) FROM incident_media WHERE incident_id = :i", i=iid) == 0
    # Its map holds its own grid only.
    assert page.evaluate("() => window.wangge.loaded.area.grid") == 1
    # Staff roles' tokens are no grid worker's: the page asks for one and keeps nothing.
    for role in ("viewer", "dispatcher"):
        q = phone(city.tokens[role])
        q.open(ready=False)
        q.page.wait_for_function("() => window.wangge.loaded.field === 'sign-in'")
        assert "不是网格员令牌" in q.page.inner_text("#fd-message")
        assert q.page.evaluate("() => localStorage.getItem('wangge-field-token')") is None
        assert q.page.is_hidden("#fd-main")


def test_verification_decided_offline_waits_and_is_sent_once(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    """In a stairwell with no signal: the confirmation and its photo wait on the phone, the
    task shows it waiting, and once the network returns the step is taken once with the
    photo; the same item sent again finds the verification decided and stores nothing."""
    city, dispatcher = page_city, page_city.tokens["dispatcher"]
    iid, _ = city.replied(11, "sanitation")
    city.ok_step(dispatcher, iid, to="verify_request", note="请核实楼道垃圾")
    p = phone(city.worker_token(11, name="网格员戊"))
    page = p.open()
    p.service_worker_ready()
    page.wait_for_function("() => window.wangge.loaded.kept === true")

    p.context.set_offline(True)
    task = _task(p, iid)
    page.click(f"{task} .fd-confirm")
    photo = jpeg_with_gps((30, 90, 200))
    page.set_input_files(f"{task} .fd-verify-photos", files=[photo_file("fixed.jpg", photo)])
    page.click(f"{task} .fd-confirm-go")
    p.message("联网后自动提交")
    page.wait_for_selector(f"{task} .fd-queued")
    assert "待发送：核实属实" in page.inner_text(task)
    assert page.query_selector(f"{task} .fd-confirm") is None  # decided once, not twice
    assert p.outbox_count() == 1
    assert f"核实属实 #{iid}" in page.inner_text("#fd-outbox")
    external = page.get_attribute("#fd-outbox li", "data-external")
    assert external is not None and external.startswith("step-")
    pending = (
        "SELECT state FROM incident_requests WHERE incident_id = :i AND kind = 'verification'"
    )
    media = "SELECT data, created_by FROM incident_media WHERE incident_id = :i"
    assert city.rows(pending, i=iid) == [("pending",)]
    assert city.rows(media, i=iid) == []

    # Reopened with the network still cut: the task still shows the decision waiting.
    page.reload()
    page.wait_for_function("() => window.wangge.loaded.field === true")
    task = _task(p, iid)
    page.wait_for_selector(f"{task} .fd-queued")
    page.evaluate("e => FD.outbox.get(e).then(it => { window.keptItem = it; })", external)

    p.context.set_offline(False)  # the page hears ``online`` and sends
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    page.wait_for_selector(task, state="detached")
    p.message("已提交核实")
    assert city.rows(STEPS_SQL, i=iid) == [("true", "网格员戊")]
    assert city.rows(pending, i=iid) == [("approved",)]
    assert city.scalar(
        "SELECT photo_n FROM incident_requests WHERE incident_id = :i AND kind = 'verification'",
        i=iid,
    ) == 1
    stored = city.rows(media, i=iid)
    assert len(stored) == 1 and stored[0][1] == "网格员戊"
    assert not has_exif(bytes(stored[0][0]))

    # Sent again (its answer lost on the way): the verification no longer waits, so the
    # item leaves the outbox, the page says so, and nothing new is stored.
    page.evaluate("() => FD.outbox.put(window.keptItem).then(() => FD.drain(true))")
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    p.message("该核实已不在等待")
    assert city.rows(STEPS_SQL, i=iid) == [("true", "网格员戊")]
    assert len(city.rows(media, i=iid)) == 1
    assert p.outside == [] and p.errors == []
