"""Photos are stored cleaned: no EXIF, GPS, XMP, ICC or text left, turned upright, with a
thumbnail; anything that is not an accepted image, or is over a limit, stores nothing."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image
from sqlalchemy import Engine

from tests.conftest import LiveServer
from tests.media.conftest import (
    LIMITS,
    declared_png,
    gif,
    media_rows,
    spy_exif,
    spy_jpeg,
    spy_png,
    spy_webp,
    upload,
)

SECRETS = (b"Exif", b"SpyPhone", b"secret", b"ns.adobe.com", b"adobe:ns:meta", b"ICC_PROFILE")


def assert_clean(data: bytes) -> Image.Image:
    for secret in SECRETS:
        assert secret not in data, secret
    image = Image.open(io.BytesIO(data))
    assert len(image.getexif()) == 0
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "Author", "Comment"):
        assert key not in image.info, key
    return image


def test_jpeg_from_a_phone_is_stored_without_metadata_and_upright(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    sent = spy_jpeg(60, 40, orientation=6)
    assert b"SpyPhone" in sent and b"Exif" in sent  # the test image does carry them
    r = upload(media_http, tokens["dispatcher"], incident, sent)
    assert r.status_code == 201, r.text
    body = r.json()
    base = f"/api/v1/incidents/{incident}/media/1"
    assert body["n"] == 1 and body["url"] == base and body["thumbnail_url"] == base + "/thumbnail"
    assert body["content_type"] == "image/jpeg"
    # Orientation 6: the camera was turned a quarter; stored upright, sides swapped.
    assert (body["width"], body["height"]) == (40, 60)
    assert r.headers["location"] == base

    [row] = media_rows(engine, incident)
    stored = bytes(row["data"])
    assert row["bytes"] == len(stored) == body["bytes"]
    assert row["created_by"] == "test-dispatcher" and row["content_type"] == "image/jpeg"
    image = assert_clean(stored)
    assert image.format == "JPEG" and image.size == (40, 60)
    # Turned clockwise: what was the left (red) edge is now at the top.
    r_top, _, b_top = image.convert("RGB").getpixel((20, 5))  # type: ignore[misc]
    r_bottom, _, b_bottom = image.convert("RGB").getpixel((20, 55))  # type: ignore[misc]
    assert r_top > 150 > b_top and b_bottom > 150 > r_bottom
    thumb = assert_clean(bytes(row["thumbnail"]))
    assert thumb.format == "JPEG" and thumb.size == (40, 60)  # small already: not enlarged


def test_served_photo_and_thumbnail(
    media_http: httpx.Client, tokens: dict[str, str], incident: int
) -> None:
    big = io.BytesIO()
    Image.new("RGB", (1200, 900), (10, 120, 40)).save(big, "JPEG")
    assert upload(media_http, tokens["dispatcher"], incident, big.getvalue()).status_code == 201
    auth = {"Authorization": f"Bearer {tokens['dispatcher']}"}
    r = media_http.get(f"/api/v1/incidents/{incident}/media/1", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (1200, 900)
    assert "max-age" in r.headers["cache-control"] and "private" in r.headers["cache-control"]
    again = media_http.get(
        f"/api/v1/incidents/{incident}/media/1",
        headers={**auth, "If-None-Match": r.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    t = media_http.get(f"/api/v1/incidents/{incident}/media/1/thumbnail", headers=auth)
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(t.content)).size == (320, 240)
    assert t.headers["etag"] != r.headers["etag"]
    listed = media_http.get(f"/api/v1/incidents/{incident}/media", headers=auth).json()["items"]
    assert [p["n"] for p in listed] == [1] and listed[0]["width"] == 1200
    missing = media_http.get(f"/api/v1/incidents/{incident}/media/2", headers=auth)
    assert missing.status_code == 404 and missing.json()["field"] == "n"


def test_png_loses_its_text_chunks_and_keeps_transparency(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    sent = spy_png()
    assert b"secret-author" in sent
    r = upload(media_http, tokens["dispatcher"], incident, sent, "shot.png", "image/png")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png"
    [row] = media_rows(engine, incident)
    image = assert_clean(bytes(row["data"]))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (60, 40)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
        assert chunk not in bytes(row["data"]), chunk


def test_webp_is_taken_and_cleaned(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    sent = spy_webp()
    assert b"EXIF" in sent and b"XMP " in sent
    r = upload(media_http, tokens["dispatcher"], incident, sent, "x.webp", "image/webp")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/webp"
    [row] = media_rows(engine, incident)
    data = bytes(row["data"])
    image = assert_clean(data)
    assert image.format == "WEBP" and image.size == (60, 40)
    for chunk in (b"EXIF", b"XMP ", b"ICCP"):
        assert chunk not in data, chunk


def test_the_same_bytes_again_return_the_stored_photo(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    sent = spy_jpeg()
    first = upload(media_http, tokens["dispatcher"], incident, sent)
    second = upload(media_http, tokens["dispatcher"], incident, sent, name="again.jpg")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    other = upload(media_http, tokens["dispatcher"], incident, spy_jpeg(orientation=1))
    assert other.status_code == 201 and other.json()["n"] == 2
    assert [r["n"] for r in media_rows(engine, incident)] == [1, 2]


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == "file" and "file" in body["error"]


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"this is a note, not a photo\n" * 20, "photo.jpg", "image/jpeg"),
        (gif(), "photo.jpg", "image/jpeg"),
        (b"%PDF-1.4\n" + b"0" * 200, "scan.png", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "cut.jpg", "image/jpeg"),
    ],
    ids=["text", "gif", "pdf", "jpeg-magic-only"],
)
def test_what_is_not_an_accepted_image_is_refused(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine,
    data: bytes, name: str, content_type: str,
) -> None:  # fmt: skip
    r = upload(media_http, tokens["dispatcher"], incident, data, name, content_type)
    refused(r, 415)
    assert "JPEG, PNG or WebP" in r.json()["error"]
    assert media_rows(engine, incident) == []


def test_a_damaged_image_is_refused(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    whole = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(whole, "JPEG")
    r = upload(media_http, tokens["dispatcher"], incident, whole.getvalue()[:3000])
    refused(r, 422)
    assert "damaged" in r.json()["error"]
    assert media_rows(engine, incident) == []


def test_a_decompression_bomb_is_refused_before_decoding(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    # Far beyond Pillow's own limit; and a real one (every row there) within Pillow's
    # limit but over the setting: both refused by the header alone.
    huge = declared_png(30_000, 30_000, rows=4)
    real = declared_png(6_000, 6_000)
    assert len(huge) < 1000 and len(real) < 100_000
    for data in (huge, real):
        r = upload(media_http, tokens["dispatcher"], incident, data, "bomb.png", "image/png")
        refused(r, 422)
        # Refused for its pixels, by the setting: decoding the cut-short one would have
        # found it damaged instead.
        assert "pixels" in r.json()["error"]
        assert str(LIMITS["media_max_pixels"]) in r.json()["error"]
    assert media_rows(engine, incident) == []


def test_a_photo_over_the_byte_limit_is_413(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    over = spy_jpeg() + b"\x00" * (LIMITS["media_max_bytes"] + 10)
    refused(upload(media_http, tokens["dispatcher"], incident, over), 413)
    # Far over: refused by the guard before the body is read, naming the field still.
    far = b"\x00" * (LIMITS["media_max_bytes"] * 2)
    refused(upload(media_http, tokens["dispatcher"], incident, far), 413)
    assert media_rows(engine, incident) == []


def test_no_more_photos_than_the_limit(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    most = LIMITS["media_max_per_incident"]
    for k in range(most):
        r = upload(media_http, tokens["dispatcher"], incident, spy_jpeg(60 + k, 40))
        assert r.status_code == 201 and r.json()["n"] == k + 1
    refused(upload(media_http, tokens["dispatcher"], incident, spy_jpeg(99, 40)), 409)
    # A photo sent again is still answered.
    assert upload(media_http, tokens["dispatcher"], incident, spy_jpeg(60, 40)).status_code == 200
    assert len(media_rows(engine, incident)) == most


def test_no_file_field_and_unknown_incident(
    media_http: httpx.Client, tokens: dict[str, str], incident: int
) -> None:
    auth = {"Authorization": f"Bearer {tokens['dispatcher']}"}
    r = media_http.post(
        f"/api/v1/incidents/{incident}/media", files={"photo": ("a.jpg", spy_jpeg())}, headers=auth
    )
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = media_http.post(f"/api/v1/incidents/{incident}/media", json={}, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = media_http.post(
        f"/api/v1/incidents/{incident}/media", data={"file": "not a file"}, files={"x": b"1"},
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = media_http.post(
        f"/api/v1/incidents/{incident}/media",
        content=b"--zz\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\nabc",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=yy"},
    )
    assert r.status_code == 422 and r.json()["field"] == "file"
    # Other fields beside the file are left alone.
    r = media_http.post(
        f"/api/v1/incidents/{incident}/media", data={"note": "north gate"},
        files={"file": ("a.jpg", spy_jpeg(), "image/jpeg")}, headers=auth,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = upload(media_http, tokens["dispatcher"], 99_999_999, spy_jpeg())
    assert r.status_code == 404
    r = media_http.get("/api/v1/incidents/99999999/media", headers=auth)
    assert r.status_code == 404


def test_adding_a_photo_is_on_the_incident_log(
    media_http: httpx.Client, tokens: dict[str, str], incident: int
) -> None:
    assert upload(media_http, tokens["dispatcher"], incident, spy_jpeg()).status_code == 201
    auth = {"Authorization": f"Bearer {tokens['dispatcher']}"}
    events = media_http.get(f"/api/v1/incidents/{incident}", headers=auth).json()["events"]
    photo = [e for e in events if e["detail"].get("step") == "photo"]
    assert len(photo) == 1 and photo[0]["kind"] == "note" and photo[0]["detail"]["n"] == 1


def _saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_photos_with_more_pictures_keep_the_first(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    first, second = Image.new("RGB", (50, 30), (200, 30, 30)), Image.new("RGB", (50, 30), "blue")
    # A phone's JPEG with a second picture (MPO: a depth or gain map), an animated WebP.
    mpo = _saved(first, "MPO", save_all=True, append_images=[second], exif=spy_exif(1))
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    animated = _saved(first, "WEBP", save_all=True, append_images=[second], duration=100)
    for data, content_type in ((mpo, "image/jpeg"), (animated, "image/webp")):
        r = upload(media_http, tokens["dispatcher"], incident, data)
        assert r.status_code == 201 and r.json()["content_type"] == content_type, r.text
    for row in media_rows(engine, incident):
        image = assert_clean(bytes(row["data"]))
        assert getattr(image, "n_frames", 1) == 1 and image.format != "MPO"
        red, _, blue = image.convert("RGB").getpixel((25, 15))  # type: ignore[misc]
        assert red > 150 > blue


def test_a_palette_png_keeps_its_transparency(
    media_http: httpx.Client, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 255, 255, 200, 30, 30] + [0] * 762)
    image.paste(1, (10, 10, 30, 30))
    sent = _saved(image, "PNG", transparency=0)
    r = upload(media_http, tokens["dispatcher"], incident, sent, "icon.png", "image/png")
    assert r.status_code == 201, r.text
    [row] = media_rows(engine, incident)
    stored = Image.open(io.BytesIO(bytes(row["data"])))
    assert stored.mode == "P" and stored.info.get("transparency") == 0
    assert stored.convert("RGBA").getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert stored.convert("RGBA").getpixel((20, 20)) == (200, 30, 30, 255)


def test_concurrent_uploads_number_in_turn_and_store_a_resend_once(
    media_server: LiveServer, tokens: dict[str, str], incident: int, engine: Engine
) -> None:
    same = spy_jpeg(80, 50)

    def send(data: bytes) -> int:
        with media_server.client() as http:
            return upload(http, tokens["dispatcher"], incident, data).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(send, [same] * 4))
    assert statuses == [200, 200, 200, 201]
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(send, [spy_jpeg(81, 50), spy_jpeg(82, 50)])) == [201, 201]
    assert [r["n"] for r in media_rows(engine, incident)] == [1, 2, 3]
