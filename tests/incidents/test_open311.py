"""Open311 GeoReport v2: a real client library reads, a plain HTTP client posts form-encoded."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from georeport import GeoReport

from tests.incidents.conftest import City, count_incidents

ROOT = "/open311/v2"


def _form(city: City, **extra: Any) -> dict[str, Any]:
    _, lon, lat = city.grid_point(3)
    return {
        "api_key": city.tokens["dispatcher"],
        "service_code": "noise",
        "lat": f"{lat:.7f}",
        "long": f"{lon:.7f}",
        "description": "夜间施工噪音 night works",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13987654321",
        "email": "wang@example.cn",
        **extra,
    }


def test_round_trip_through_the_georeport_client(city: City, city_http: httpx.Client) -> None:
    client = GeoReport(city.server.base_url + ROOT)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"property_services", "consumer_rights", "noise"} <= codes
    assert client.get_service_definition("noise") == {"service_code": "noise", "attributes": []}

    r = city_http.post(f"{ROOT}/requests.json", data=_form(city))
    assert r.status_code == 201, r.text
    new_id = r.json()[0]["service_request_id"]

    one = client.get_service_request(new_id)
    assert one["service_code"] == "noise" and one["status"] == "open"
    assert one["description"].startswith("夜间施工")
    listed = client.get_service_requests(service_code="noise", status="open")
    assert new_id in {r["service_request_id"] for r in listed}
    assert len(listed) <= 1000
    text = json.dumps(listed, ensure_ascii=False)
    assert "13987654321" not in text and "小明" not in text

    xml_client = GeoReport(city.server.base_url + ROOT, output_format="xml")
    assert {s["service_code"] for s in xml_client.get_service_list()} == codes
    assert xml_client.get_service_request(new_id)["service_code"] == "noise"
    assert xml_client.get_service_definition("noise")["service_code"] == "noise"


def test_extended_attributes_carry_the_units(city: City, city_http: httpx.Client) -> None:
    grid, _, _ = city.grid_point(3)
    new_id = city_http.post(f"{ROOT}/requests.json", data=_form(city)).json()[0][
        "service_request_id"
    ]
    plain = city_http.get(f"{ROOT}/requests/{new_id}.json").json()[0]
    assert "extended_attributes" not in plain
    r = city_http.get(f"{ROOT}/requests/{new_id}.json", params={"extensions": "true"})
    ext = r.json()[0]["extended_attributes"]
    assert ext["grid"]["code"] == grid and ext["grid"]["name"]
    assert ext["community"]["code"] == grid[:12] and ext["street"]["code"] == grid[:9]
    assert ext["district"]["code"] == grid[:6]
    assert ext["station"]["name"] and ext["party_branch"]["name"]
    xml = city_http.get(f"{ROOT}/requests/{new_id}.xml", params={"extensions": "true"})
    node = ET.fromstring(xml.content).find("request/extended_attributes/grid/code")
    assert node is not None and node.text == grid
    assert "13987654321" not in xml.text and "小明" not in xml.text


def test_discovery_and_xml_shapes(city: City, city_http: httpx.Client) -> None:
    discovery = city_http.get(f"{ROOT}/discovery.json").json()
    assert discovery["endpoints"][0]["url"].endswith(ROOT)
    root = ET.fromstring(city_http.get(f"{ROOT}/discovery.xml").content)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format") is not None
    services = ET.fromstring(city_http.get(f"{ROOT}/services.xml").content)
    assert services.tag == "services" and services.find("service/service_code") is not None
    r = city_http.post(f"{ROOT}/requests.xml", data=_form(city))
    assert r.status_code == 201 and r.headers["content-type"].startswith("text/xml")
    created = ET.fromstring(r.content)
    assert created.tag == "service_requests"
    assert (created.findtext("request/service_request_id") or "").isdigit()


POST_ERRORS = [
    ("no api_key", {"api_key": ""}, 400, "api_key"),
    ("bad api_key", {"api_key": "wg_not_a_token"}, 403, "api_key"),
    ("viewer api_key", {"api_key": "viewer"}, 403, "api_key"),
    ("no service_code", {"service_code": ""}, 400, "service_code"),
    ("unknown service", {"service_code": "dragons"}, 400, "service_code"),
    ("no location", {"lat": ""}, 400, "lat"),
    ("bad latitude", {"lat": "north"}, 400, "lat"),
    ("swapped", {"lat": "101.78", "long": "36.62"}, 400, "swapped"),
    ("long description", {"description": "x" * 4001}, 400, "description"),
]


@pytest.mark.parametrize(("case", "change", "status", "word"), POST_ERRORS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_use_the_spec_format(
    city: City,
    city_http: httpx.Client,
    fmt: str,
    case: str,
    change: dict[str, str],
    status: int,
    word: str,
) -> None:
    if change.get("api_key") == "viewer":
        change = {"api_key": city.tokens["viewer"]}
    before = count_incidents(city.engine)
    r = city_http.post(f"{ROOT}/requests.{fmt}", data=_form(city, **change))
    assert r.status_code == status, (case, r.text)
    if fmt == "json":
        [error] = r.json()
        assert error["code"] == status and word in error["description"]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "errors"
        assert root.findtext("error/code") == str(status)
        assert word in (root.findtext("error/description") or "")
    assert count_incidents(city.engine) == before


def test_read_errors_and_the_default_window(city_http: httpx.Client) -> None:
    missing = city_http.get(f"{ROOT}/requests/999999999.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    missing_xml = city_http.get(f"{ROOT}/requests/999999999.xml")
    assert ET.fromstring(missing_xml.content).findtext("error/code") == "404"
    assert city_http.get(f"{ROOT}/services/dragons.json").status_code == 404
    assert city_http.get(f"{ROOT}/services.yaml").status_code == 404
    too_long = city_http.get(
        f"{ROOT}/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400 and "90 days" in too_long.json()[0]["description"]
    bad = city_http.get(f"{ROOT}/requests.json", params={"start_date": "last week"})
    assert bad.status_code == 400 and "start_date" in bad.json()[0]["description"]
    bad = city_http.get(f"{ROOT}/requests.json", params={"status": "pending"})
    assert bad.status_code == 400 and "status" in bad.json()[0]["description"]
    # The demo day is within 90 days of a given window: capped at 1,000 of its 899.
    day = city_http.get(
        f"{ROOT}/requests.json",
        params={"start_date": "2026-11-18T00:00:00+08:00", "end_date": "2026-11-19T00:00:00+08:00"},
    ).json()
    assert len(day) == 899
    closed = city_http.get(
        f"{ROOT}/requests.json",
        params={
            "start_date": "2026-11-18T00:00:00+08:00",
            "end_date": "2026-11-19T00:00:00+08:00",
            "status": "closed",
        },
    ).json()
    assert len(closed) == 425 and all(r["status"] == "closed" for r in closed)
