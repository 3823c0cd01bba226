"""The app over real HTTP: health, error mapping, and docs that load nothing from outside."""

from __future__ import annotations

import re

import httpx


def test_health_reports_postgis(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "reachable"
    assert re.match(r"^3\.\d+\.\d+", body["postgis_version"])
    assert "boundary_version" in body


def test_unknown_path_is_json_404(http: httpx.Client) -> None:
    response = http.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_docs_load_no_external_asset(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert urls, "docs page references no assets at all"
    for url in urls:
        assert not url.startswith(("http:", "https:", "//")), url
        if url.startswith("/vendor/"):
            assert http.get(url).status_code == 200, url
    assert http.get("/openapi.json").json()["info"]["title"].startswith("Wangge")


def test_static_files_stay_in_their_folder(http: httpx.Client) -> None:
    response = http.get("/vendor/..%2Fpyproject.toml")
    assert response.status_code == 404
