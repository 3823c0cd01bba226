"""OGC API Features: paging, bbox, datetime, CQL2 filters, and GDAL reads it."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx

from tests.maps.conftest import LAT0, LON0, STEP, City


def get(city: City, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{city.base_url}/ogc{path}", params=params, timeout=30)


def test_landing_conformance_and_collections(city: City) -> None:
    landing = get(city, "").json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "conformance", "data"}
    conf = get(city, "/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf)
    ids = [c["id"] for c in get(city, "/collections").json()["collections"]]
    assert ids == ["grids", "communities", "facilities", "incidents"]
    grids = get(city, "/collections/grids").json()
    bbox = grids["extent"]["spatial"]["bbox"][0]
    assert abs(bbox[0] - LON0) < 1e-6 and abs(bbox[3] - (LAT0 + 2 * STEP)) < 1e-6
    assert get(city, "/collections/people").status_code == 404


def test_items_page_with_next_links_until_all_are_read(city: City) -> None:
    total = city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL")
    seen: list[int] = []
    url: str | None = f"{city.base_url}/ogc/collections/grids/items?limit=4"
    while url:
        r = httpx.get(url)
        assert r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        assert body["numberMatched"] == total
        seen += [f["id"] for f in body["features"]]
        url = next((ln["href"] for ln in body["links"] if ln["rel"] == "next"), None)
    assert len(seen) == total == len(set(seen))


def test_bbox_and_filters(city: City) -> None:
    bbox = f"{LON0 + 0.1 * STEP},{LAT0 + 0.1 * STEP},{LON0 + 0.9 * STEP},{LAT0 + 0.9 * STEP}"
    body = get(city, "/collections/grids/items", bbox=bbox).json()
    assert [f["properties"]["code"] for f in body["features"]] == ["630103001001001"]

    over = get(city, "/collections/grids/items", filter="households > 400").json()
    expected = city.scalar("SELECT count(*) FROM grids WHERE households > 400")
    assert over["numberMatched"] == expected
    assert all(f["properties"]["households"] > 400 for f in over["features"])

    one = get(city, "/collections/grids/items", filter="code = '630103001002003'").json()
    assert [f["properties"]["code"] for f in one["features"]] == ["630103001002003"]

    both = get(
        city,
        "/collections/communities/items",
        filter="class = 'B' AND households BETWEEN 2000 AND 3000",
    ).json()
    assert [f["properties"]["code"] for f in both["features"]] == ["630103001002"]


def test_filters_are_whitelisted_and_bound(city: City) -> None:
    r = get(city, "/collections/grids/items", filter="worker_name = 'x'")
    assert r.status_code == 422 and r.json()["field"] == "filter"
    r = get(city, "/collections/incidents/items", filter="reporter_phone LIKE '138%'")
    assert r.status_code == 422 and r.json()["field"] == "filter"
    # An injection attempt is just a string that matches no code.
    r = get(city, "/collections/grids/items", filter="code = 'x'' OR 1=1 --'")
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    r = get(city, "/collections/grids/items", filter="households > 'many'")
    assert r.status_code == 422 and r.json()["field"] == "filter"
    assert get(city, "/collections/grids/items", filter="code = ").json()["field"] == "filter"
    assert get(city, "/collections/grids/items", limit=0).json()["field"] == "limit"
    assert get(city, "/collections/grids/items", bbox="1,2,3").json()["field"] == "bbox"
    assert get(city, "/collections/grids/items", datetime="soon").json()["field"] == "datetime"


def test_datetime_selects_the_boundaries_valid_then(city: City) -> None:
    past = get(city, "/collections/grids/items", datetime="2001-01-01T00:00:00Z").json()
    assert past["numberMatched"] == 0
    now = get(city, "/collections/grids/items", datetime="2100-01-01T00:00:00Z").json()
    assert now["numberMatched"] == city.scalar("SELECT count(*) FROM grids")


def test_incidents_carry_no_personal_data(city: City) -> None:
    r = get(city, "/collections/incidents/items", limit=1000)
    assert r.status_code == 200
    assert r.json()["numberMatched"] == city.scalar("SELECT count(*) FROM incidents")
    assert "张三丰" not in r.text and "13812345678" not in r.text and "夜间施工" not in r.text
    one = r.json()["features"][0]["id"]
    single = get(city, f"/collections/incidents/items/{one}").json()
    assert "reporter_name" not in single["properties"]


def ogrinfo(*args: str) -> str:
    done = subprocess.run(
        ["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_and_reads_collections(city: City) -> None:
    source = f"OAPIF:{city.base_url}/ogc"
    listing = ogrinfo(source)
    for name in ("grids", "communities", "facilities", "incidents"):
        assert name in listing
    summary = ogrinfo("-so", source, "grids")
    total = city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL")
    assert f"Feature Count: {total}" in summary
    full = ogrinfo(source, "grids", "-where", "households > 400")
    over = city.scalar("SELECT count(*) FROM grids WHERE valid_to IS NULL AND households > 400")
    assert full.count("OGRFeature(grids)") == over
    assert "630103001001003" in full
