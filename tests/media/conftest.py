"""Fixtures of the photo tests: servers on the session's empty database (with small
limits, and one with photos open to every reader), tokens, incidents and images made
with Pillow."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import Engine, text

from gis.db import make_engine, session_scope
from gis.settings import Settings
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.incidents.conftest import bearer, categories, incident_body  # noqa: F401

LIMITS: dict[str, Any] = {
    "media_max_bytes": 2_000_000,
    "media_max_pixels": 30_000_000,
    "media_max_per_incident": 3,
}
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MODEL = 0x0110
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description about="">secret-xmp</rdf:Description></rdf:RDF>'
    b"</x:xmpmeta>"
)


@pytest.fixture(scope="session")
def media_server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url, Settings(database_url=database_url, **LIMITS)) as server:
        yield server


@pytest.fixture(scope="session")
def public_server(database_url: str) -> Iterator[LiveServer]:
    settings = Settings(database_url=database_url, media_public=True, **LIMITS)
    with LiveServer(database_url, settings) as server:
        yield server


@pytest.fixture
def media_http(media_server: LiveServer) -> Iterator[httpx.Client]:
    with media_server.client() as client:
        yield client


@pytest.fixture(scope="session")
def unit_tokens(database_url: str, categories: list[str]) -> dict[str, str]:  # noqa: F811
    """Tokens of two units' staff (housing, the default unit of the first category; urban)."""
    engine = make_engine(database_url, pool_size=1)
    plain: dict[str, str] = {}
    try:
        with session_scope(engine) as session:
            for unit in ("housing", "urban"):
                plain[unit], _ = create_token(session, "unit", f"staff-{unit}", unit_code=unit)
    finally:
        engine.dispose()
    return plain


@pytest.fixture
def incident(
    media_http: httpx.Client,
    tokens: dict[str, str],
    incident_body: dict[str, Any],  # noqa: F811
) -> int:
    """A new incident, stored by a dispatcher."""
    r = media_http.post(
        "/api/v1/incidents", json=incident_body, headers=bearer(tokens["dispatcher"])
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def upload(
    http: httpx.Client, token: str | None, incident_id: int, data: bytes,
    name: str = "photo.jpg", content_type: str = "image/jpeg",
) -> httpx.Response:  # fmt: skip
    headers = bearer(token) if token else {}
    return http.post(
        f"/api/v1/incidents/{incident_id}/media",
        files={"file": (name, data, content_type)},
        headers=headers,
    )


def media_rows(engine: Engine, incident_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM incident_media WHERE incident_id = :i ORDER BY n"),
            {"i": incident_id},
        )
        return [dict(r._mapping) for r in rows]


# -- images ---------------------------------------------------------------------------


def two_colour(width: int = 60, height: int = 40, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: which way up it is shows in its pixels."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    return image.convert(mode)


def spy_exif(orientation: int = 6) -> Image.Exif:
    """EXIF a phone writes: camera model, orientation and where it was (GPS)."""
    exif = Image.Exif()
    exif[MODEL] = "SpyPhone 15 Pro"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (36.0, 37.0, 1.5), 3: "E", 4: (101.0, 46.0, 40.2)})
    return exif


@functools.cache
def srgb_icc() -> bytes:
    """An sRGB profile (made once: it carries the time it was made)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def spy_jpeg(width: int = 60, height: int = 40, orientation: int = 6) -> bytes:
    out = io.BytesIO()
    two_colour(width, height).save(
        out, "JPEG", quality=95, exif=spy_exif(orientation), icc_profile=srgb_icc(),
        comment=b"secret-comment", xmp=XMP,
    )  # fmt: skip
    return out.getvalue()


def spy_png() -> bytes:
    info = PngInfo()
    info.add_text("Author", "secret-author")
    info.add_itxt("Comment", "secret-itxt", zip=True)
    out = io.BytesIO()
    two_colour(mode="RGBA").save(out, "PNG", pnginfo=info, exif=spy_exif(1), icc_profile=srgb_icc())
    return out.getvalue()


def spy_webp() -> bytes:
    out = io.BytesIO()
    two_colour().save(out, "WEBP", exif=spy_exif(1), xmp=XMP, icc_profile=srgb_icc())
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    two_colour().save(out, "GIF")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def declared_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A greyscale PNG whose header declares ``width`` × ``height``; its data holds
    ``rows`` rows of zeros (all of them by default: a real decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = (b"\x00" + bytes(width)) * (height if rows is None else rows)
    body = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body
