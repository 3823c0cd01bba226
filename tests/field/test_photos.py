"""Photos from the field: a grid worker adds them to its grids' incidents, and a confirmed
verification points to the one taken on the spot."""

from __future__ import annotations

import io

from PIL import Image

from tests.field.conftest import FieldCity, bearer


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(city: FieldCity, token: str, incident_id: int, data: bytes) -> int:
    with city.client() as http:
        r = http.post(
            f"/api/v1/incidents/{incident_id}/media",
            files={"file": ("scene.jpg", data, "image/jpeg")},
            headers=bearer(token),
        )
    assert r.status_code == 201, r.text
    return int(r.json()["n"])


def test_a_worker_adds_photos_in_its_grids_only(field_city: FieldCity) -> None:
    city = field_city
    mine, theirs = city.report(40), city.report(41)
    worker = city.worker_token(40)
    n = upload(city, worker, mine["id"], jpeg((200, 30, 30)))
    photos = city.get(worker, f"/api/v1/incidents/{mine['id']}/media")
    assert photos.status_code == 200, photos.text
    assert city.get(worker, f"/api/v1/incidents/{mine['id']}/media/{n}").status_code == 200
    with city.client() as http:
        r = http.post(
            f"/api/v1/incidents/{theirs['id']}/media",
            files={"file": ("scene.jpg", jpeg((1, 2, 3)), "image/jpeg")},
            headers=bearer(worker),
        )
    assert r.status_code == 403 and "grid" in r.json()["error"]
    assert city.get(worker, f"/api/v1/incidents/{theirs['id']}/media").status_code == 403
    assert (
        city.scalar("SELECT count(*) FROM incident_media WHERE incident_id = :i", i=theirs["id"])
        == 0
    )


def test_a_confirmation_points_to_the_photo_taken_on_the_spot(field_city: FieldCity) -> None:
    city, dispatcher = field_city, field_city.tokens["dispatcher"]
    worker = city.worker_token(42, name="刘核查")

    # The field page's way: photos first, then confirm; the latest photo is the evidence.
    iid, unit = city.replied(42)
    before = upload(city, unit, iid, jpeg((10, 200, 10)))  # the unit's, before asking
    city.ok_step(dispatcher, iid, to="verify_request")
    upload(city, worker, iid, jpeg((10, 10, 200)))
    latest = upload(city, worker, iid, jpeg((200, 200, 10)))
    confirmed = city.ok_step(worker, iid, to="verify_confirm", note="已清理")
    [request] = [r for r in confirmed["requests"] if r["kind"] == "verification"]
    assert request["photo"] == latest and latest != before
    detail = city.scalar(
        "SELECT detail FROM incident_events WHERE incident_id = :i"
        " AND kind = 'verification_decision'",
        i=iid,
    )
    assert detail["photo"] == latest and detail["confirmed"] is True

    # Naming a photo: it must be one of this incident's.
    other, _ = city.replied(43)
    own_worker = city.worker_token(43)
    city.ok_step(dispatcher, other, to="verify_request")
    r = city.step(own_worker, other, to="verify_confirm", photo=latest + 5)
    assert r.status_code == 422 and r.json()["field"] == "photo"
    n = upload(city, own_worker, other, jpeg((90, 90, 90)))
    second = upload(city, own_worker, other, jpeg((91, 91, 91)))
    named = city.ok_step(own_worker, other, to="verify_confirm", photo=n)
    assert [r["photo"] for r in named["requests"] if r["kind"] == "verification"] == [n]
    assert second != n
    # No photo of the worker since asking: confirmed without one.
    third, _ = city.replied(44)
    third_worker = city.worker_token(44)
    city.ok_step(dispatcher, third, to="verify_request")
    plain = city.ok_step(third_worker, third, to="verify_confirm")
    assert [r["photo"] for r in plain["requests"] if r["kind"] == "verification"] == [None]
