"""Who may add photos and who may see them; Open311 ``media_url``; tiles carry no photos."""

from __future__ import annotations

import math
from typing import Any

import httpx
import mapbox_vector_tile
from sqlalchemy import Engine

from gis.db import make_engine, session_scope
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.incidents.conftest import bearer
from tests.media.conftest import media_rows, spy_jpeg, upload


def dispatch(http: httpx.Client, token: str, incident_id: int, unit: str) -> None:
    r = http.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "dispatched", "unit_code": unit},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text


def reads(http: httpx.Client, token: str | None, incident_id: int) -> list[int]:
    """Statuses of the list, the photo and the thumbnail for this caller."""
    headers = bearer(token) if token else {}
    base = f"/api/v1/incidents/{incident_id}/media"
    return [
        http.get(p, headers=headers).status_code for p in (base, f"{base}/1", f"{base}/1/thumbnail")
    ]


def test_who_may_add_a_photo(
    media_http: httpx.Client, tokens: dict[str, str], unit_tokens: dict[str, str],
    incident: int, engine: Engine,
) -> None:  # fmt: skip
    assert upload(media_http, None, incident, spy_jpeg()).status_code == 401
    viewer = upload(media_http, tokens["viewer"], incident, spy_jpeg())
    assert viewer.status_code == 403 and "dispatcher" in viewer.json()["error"]
    # Not yet dispatched: no unit may add to it.
    assert upload(media_http, unit_tokens["housing"], incident, spy_jpeg()).status_code == 403
    dispatch(media_http, tokens["dispatcher"], incident, "housing")
    other = upload(media_http, unit_tokens["urban"], incident, spy_jpeg())
    assert other.status_code == 403 and other.json()["field"] == "id"
    assert media_rows(engine, incident) == []
    own = upload(media_http, unit_tokens["housing"], incident, spy_jpeg())
    assert own.status_code == 201, own.text
    assert media_rows(engine, incident)[0]["created_by"] == "staff-housing"
    for role in ("planner", "admin"):
        r = upload(media_http, tokens[role], incident, spy_jpeg(61 if role == "admin" else 62))
        assert r.status_code == 201, (role, r.text)


def test_a_district_token_adds_only_in_its_district(
    media_http: httpx.Client, database_url: str, incident: int, engine: Engine
) -> None:
    eng = make_engine(database_url, pool_size=1)
    try:
        with session_scope(eng) as session:
            scoped, _ = create_token(session, "dispatcher", "chengzhong desk", "630103")
    finally:
        eng.dispose()
    # The empty test city has no districts: the incident lies in none, not in 630103.
    r = upload(media_http, scoped, incident, spy_jpeg())
    assert r.status_code == 403 and "630103" in r.json()["error"]
    assert media_rows(engine, incident) == []


def test_who_may_see_photos(
    media_http: httpx.Client, public_server: LiveServer, tokens: dict[str, str],
    unit_tokens: dict[str, str], incident: int,
) -> None:  # fmt: skip
    dispatch(media_http, tokens["dispatcher"], incident, "housing")
    assert upload(media_http, tokens["dispatcher"], incident, spy_jpeg()).status_code == 201
    for role in ("dispatcher", "planner", "admin"):
        assert reads(media_http, tokens[role], incident) == [200, 200, 200], role
    assert reads(media_http, unit_tokens["housing"], incident) == [200, 200, 200]
    assert reads(media_http, unit_tokens["urban"], incident) == [403, 403, 403]
    assert reads(media_http, tokens["viewer"], incident) == [403, 403, 403]
    assert reads(media_http, None, incident) == [403, 403, 403]
    refusal = media_http.get(
        f"/api/v1/incidents/{incident}/media/1", headers=bearer(tokens["viewer"])
    )
    assert "WANGGE_MEDIA_PUBLIC" in refusal.json()["error"]
    # Where the setting opens them, every reader sees them.
    with public_server.client() as public:
        assert reads(public, tokens["viewer"], incident) == [200, 200, 200]
        assert reads(public, None, incident) == [200, 200, 200]
        assert reads(public, unit_tokens["urban"], incident) == [200, 200, 200]


def open311(http: httpx.Client, incident_id: int, token: str | None = None) -> dict[str, Any]:
    headers = bearer(token) if token else {}
    one = http.get(f"/open311/v2/requests/{incident_id}.json", headers=headers)
    assert one.status_code == 200, one.text
    item: dict[str, Any] = one.json()[0]
    listed = http.get(
        "/open311/v2/requests.json",
        params={"service_request_id": str(incident_id)},
        headers=headers,
    ).json()
    assert listed == [item]
    return item


def test_open311_carries_media_url_for_those_who_may_see(
    media_http: httpx.Client, media_server: LiveServer, public_server: LiveServer,
    tokens: dict[str, str], incident: int,
) -> None:  # fmt: skip
    assert open311(media_http, incident, tokens["dispatcher"])["media_url"] == ""
    for k in (1, 2):
        assert (
            upload(media_http, tokens["dispatcher"], incident, spy_jpeg(60 + k)).status_code == 201
        )
    first = f"/api/v1/incidents/{incident}/media/1"
    url = open311(media_http, incident, tokens["dispatcher"])["media_url"]
    assert url == media_server.base_url + first
    # The public feed, by default, shows no photo.
    assert open311(media_http, incident)["media_url"] == ""
    assert open311(media_http, incident, tokens["viewer"])["media_url"] == ""
    xml = media_http.get(f"/open311/v2/requests/{incident}.xml").text
    assert "/media/" not in xml
    with public_server.client() as public:
        assert open311(public, incident)["media_url"] == public_server.base_url + first
        # The URL leads to the photo.
        photo = public.get(open311(public, incident)["media_url"])
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def test_incident_tiles_carry_nothing_of_photos(
    media_http: httpx.Client, tokens: dict[str, str], incident: int,
    incident_body: dict[str, Any],
) -> None:  # fmt: skip
    assert upload(media_http, tokens["dispatcher"], incident, spy_jpeg()).status_code == 201
    for z in (10, 15):
        z, x, y = tile_of(incident_body["lon"], incident_body["lat"], z)
        r = media_http.get(f"/tiles/incidents/{z}/{x}/{y}.mvt", headers=bearer(tokens["admin"]))
        assert r.status_code == 200
        assert b"/media" not in r.content
        features = mapbox_vector_tile.decode(r.content)["incidents"]["features"]
        assert features
        keys = {k for f in features for k in f["properties"]}
        assert not {k for k in keys if "media" in k or "photo" in k}, keys
