"""Reporting with the network cut (Playwright's offline mode): the report and its photo wait
in IndexedDB, the page shows them waiting, and once the network returns exactly one
incident is stored under the page's external_id with one photo whose stored bytes carry
no EXIF; sending the same item again stores nothing new. The shell, my grid and my tasks
open from the phone with the network cut."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tests.field_page.conftest import FieldPage, PageCity, has_exif, jpeg_with_gps, photo_file

COUNT_SQL = "SELECT count(*) FROM incident_reports WHERE external_id = :e"
MEDIA_SQL = (
    "SELECT m.data, m.upload_sha256 FROM incident_media m JOIN incident_reports r"
    " ON r.id = m.incident_id WHERE r.external_id = :e ORDER BY m.n"
)


def _ready(p: FieldPage) -> None:
    p.service_worker_ready()
    p.page.wait_for_function("() => window.wangge.loaded.kept === true")


def test_report_offline_is_stored_once_with_its_photo_cleaned(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    grid, lon, lat = page_city.grid_point(3)
    p = phone(page_city.worker_token(3, name="网格员乙"), geolocation=(lon, lat))
    page = p.open()
    _ready(p)
    assert page.inner_text("#fd-who") == "网格员乙"
    area = page.evaluate("() => window.wangge.loaded.area")
    assert area["grid"] == 1 and area["building"] > 0
    assert p.shot("field-map").stat().st_size > 20_000

    p.context.set_offline(True)
    p.tab("report")
    page.select_option("#fd-category", "sanitation")
    page.fill("#fd-description", "单元门口建筑垃圾堆放")
    page.click("#fd-gps")
    page.wait_for_function("() => document.getElementById('fd-lon').value !== ''")
    assert page.input_value("#fd-crs") == "wgs84"
    assert abs(float(page.input_value("#fd-lon")) - lon) < 1e-6
    photo = jpeg_with_gps()
    assert has_exif(photo)
    page.set_input_files("#fd-photos", files=[photo_file("scene.jpg", photo)])
    page.wait_for_selector("#fd-thumbs img")
    page.click("#fd-send")
    p.message("联网后自动发送")
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '1'")
    external = page.get_attribute("#fd-outbox li", "data-external")
    assert external is not None and external.startswith("field-")
    assert page.inner_text("#fd-outbox-count") == "1"
    assert "等待网络" in page.inner_text("#fd-outbox li")
    assert page_city.scalar(COUNT_SQL, e=external) == 0

    # Reopened with the network still cut: the shell, my grid, my tasks and the waiting
    # report all come from the phone.
    page.reload()
    page.wait_for_function("() => window.wangge.loaded.field === true")
    assert page.inner_text("#fd-net") == "离线"
    assert page.evaluate("() => window.wangge.loaded.area.grid") == 1
    assert page.evaluate("() => window.wangge.loaded.tasks.cached") is True
    assert page.is_visible("#fd-map-note") and "上次保存" in page.inner_text("#fd-map-note")
    assert p.outbox_count() == 1
    # The item as it waits, kept aside to be sent a second time below.
    page.evaluate("e => FD.outbox.get(e).then(it => { window.keptItem = it; })", external)
    assert page_city.scalar(COUNT_SQL, e=external) == 0

    p.context.set_offline(False)  # the page hears ``online`` and sends
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    p.message("已发送")
    assert page_city.scalar(COUNT_SQL, e=external) == 1
    row = page_city.rows(
        "SELECT channel, grid_code, category_code, input_crs FROM incidents WHERE external_id = :e",
        e=external,
    )
    assert len(row) == 1
    assert tuple(row[0]) == ("patrol", grid, "sanitation", "wgs84")
    stored = page_city.rows(MEDIA_SQL, e=external)
    assert len(stored) == 1
    data, upload_sha = bytes(stored[0][0]), stored[0][1]
    assert upload_sha == hashlib.sha256(photo).hexdigest()
    assert data[:2] == b"\xff\xd8" and not has_exif(data)

    # The same item sent again (an acknowledgement lost on the way): the report answers
    # as stored, the photo as already there; nothing new is stored and the queue empties.
    page.evaluate("() => FD.outbox.put(window.keptItem).then(() => FD.drain(true))")
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    assert page_city.scalar(COUNT_SQL, e=external) == 1
    assert len(page_city.rows(MEDIA_SQL, e=external)) == 1
    assert p.outside == [] and p.errors == []


def test_refused_report_is_shown_and_kept_for_editing(
    page_city: PageCity, phone: Callable[..., FieldPage]
) -> None:
    own, lon, lat = page_city.grid_point(4)
    other, olon, olat = page_city.grid_point(40)
    p = phone(page_city.worker_token(4))
    page = p.open()
    p.tab("report")
    page.select_option("#fd-category", "noise")
    page.fill("#fd-description", "夜间施工噪声")
    # A point in someone else's grid, typed as the map gives it: refused, shown, kept.
    page.fill("#fd-lon", str(olon))
    page.fill("#fd-lat", str(olat))
    page.select_option("#fd-crs", "cgcs2000")
    page.click("#fd-send")
    page.wait_for_selector("#fd-outbox li.fd-state-refused")
    item = page.inner_text("#fd-outbox li")
    assert "服务器拒收" in item and "location" in item and own in item
    external = page.get_attribute("#fd-outbox li", "data-external")
    assert page_city.scalar(COUNT_SQL, e=external) == 0
    # Edited to the worker's own grid and sent again under the same id: stored once.
    page.click("#fd-outbox li .fd-edit")
    page.wait_for_selector("#fd-panel-report:not([hidden])")
    assert page.input_value("#fd-description") == "夜间施工噪声"
    page.fill("#fd-lon", str(lon))
    page.fill("#fd-lat", str(lat))
    page.click("#fd-send")
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    assert page_city.scalar(COUNT_SQL, e=external) == 1
    assert (
        page_city.scalar("SELECT grid_code FROM incidents WHERE external_id = :e", e=external)
        == own
    )
    # Another refused report, discarded: nothing stored, nothing waits.
    p.tab("report")
    page.select_option("#fd-category", "noise")
    page.fill("#fd-lon", str(olon))
    page.fill("#fd-lat", str(olat))
    page.select_option("#fd-crs", "cgcs2000")
    page.click("#fd-send")
    page.wait_for_selector("#fd-outbox li.fd-state-refused")
    dropped = page.get_attribute("#fd-outbox li", "data-external")
    page.click("#fd-outbox li .fd-discard")
    page.wait_for_function("() => document.getElementById('fd-outbox').dataset.count === '0'")
    assert page_city.scalar(COUNT_SQL, e=dropped) == 0
    assert other != own and p.errors == []
