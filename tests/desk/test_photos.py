"""The desk card shows a case's photos: thumbnails fetched with the desk's token (an <img>
cannot send it), each opening the full photo; a viewer's desk does not even ask."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from PIL import Image

from tests.desk.conftest import DeskCity, DeskPage


def photo(colour: tuple[int, int, int], size: tuple[int, int] = (900, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def test_card_shows_thumbnails_that_open_the_photo(
    desk_city: DeskCity, desk: Callable[..., DeskPage]
) -> None:
    inc = desk_city.new_incident(90)
    auth = {"Authorization": f"Bearer {desk_city.tokens['dispatcher']}"}
    with httpx.Client(base_url=desk_city.base_url, timeout=30) as http:
        for colour in ((200, 30, 30), (30, 30, 200)):
            r = http.post(
                f"/api/v1/incidents/{inc['id']}/media",
                files={"file": ("p.jpg", photo(colour), "image/jpeg")},
                headers=auth,
            )
            assert r.status_code == 201, r.text

    p = desk(desk_city.tokens["dispatcher"])
    page = p.open()
    p.show(inc["id"])
    page.wait_for_function("() => document.querySelectorAll('#dk-photos img').length === 2")
    sources = page.eval_on_selector_all("#dk-photos img", "ims => ims.map(i => i.src)")
    assert all(s.startswith("blob:") for s in sources)
    widths = page.eval_on_selector_all(
        "#dk-photos img", "ims => ims.map(i => i.complete && i.naturalWidth)"
    )
    assert widths == [320, 320]  # the thumbnails, not the photos
    assert "照片 (2)" in page.inner_text("#dk-card")
    assert "添加照片" in page.inner_text("#dk-timeline")
    page.click("#dk-photos a >> nth=1")
    page.wait_for_selector("#dk-photo-view img")
    page.wait_for_function(
        "() => { const i = document.querySelector('#dk-photo-view img');"
        " return i.complete && i.naturalWidth === 900; }"
    )
    page.click("#dk-photo-view")
    assert page.query_selector("#dk-photo-view") is None
    assert p.errors == [] and p.outside == []

    viewer = desk(desk_city.tokens["viewer"])
    viewer_page = viewer.open()
    viewer.show(inc["id"])
    answered = viewer_page.wait_for_selector("#dk-photo-box[data-answered]", state="attached")
    assert answered is not None and answered.get_attribute("data-answered") == "not asked"
    assert viewer_page.query_selector("#dk-photos") is None
    assert viewer.errors == []
