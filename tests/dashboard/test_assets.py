"""Static files: large text files gzip-compressed for clients that take it, an ETag that
revalidates to 304, and cache headers (a day for npm packages, revalidation for the pages'
own files)."""

from __future__ import annotations

import gzip

import httpx

from api.app import VENDOR_DIR
from api.assets import MIN_COMPRESSED, PAGE_CACHE, VENDOR_CACHE
from api.routers.maps import STATIC_DIR

ECHARTS = "/vendor/echarts/dist/echarts.min.js"


def _raw(http: httpx.Client, path: str, **headers: str) -> httpx.Response:
    """The answer as sent (the client leaves the body compressed)."""
    request = http.build_request("GET", path, headers=headers)
    response = http.send(request, stream=True)
    response.read()
    response.close()
    return response


def test_echarts_is_sent_compressed_and_kept_a_day(http: httpx.Client) -> None:
    source = (VENDOR_DIR / "echarts/dist/echarts.min.js").read_bytes()
    zipped = _raw(http, ECHARTS, **{"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["cache-control"] == VENDOR_CACHE
    assert zipped.headers["content-type"].startswith("text/javascript")
    assert gzip.decompress(_gzipped_body(http, ECHARTS)) == source
    assert int(zipped.headers["content-length"]) < len(source) / 2
    plain = _raw(http, ECHARTS, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == source
    assert plain.headers["etag"] != zipped.headers["etag"]
    for answer, encoding in ((zipped, "gzip"), (plain, "identity")):
        again = _raw(
            http, ECHARTS, **{"Accept-Encoding": encoding, "If-None-Match": answer.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""


def _gzipped_body(http: httpx.Client, path: str) -> bytes:
    with http.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        return b"".join(response.iter_raw())


def test_the_pages_own_files_are_compressed_and_revalidated(http: httpx.Client) -> None:
    path = "/maps/static/dashboard.js"
    source = (STATIC_DIR / "dashboard.js").read_bytes()
    assert len(source) >= MIN_COMPRESSED
    first = _raw(http, path, **{"Accept-Encoding": "gzip, deflate"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["cache-control"] == PAGE_CACHE
    assert gzip.decompress(_gzipped_body(http, path)) == source
    again = _raw(http, path, **{"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_small_files_go_as_they_are(http: httpx.Client) -> None:
    small = sorted(
        (p for p in STATIC_DIR.iterdir() if p.stat().st_size < MIN_COMPRESSED),
        key=lambda p: p.name,
    )
    assert small, "no small static file to check"
    answer = _raw(http, f"/maps/static/{small[0].name}", **{"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert answer.content == small[0].read_bytes()
