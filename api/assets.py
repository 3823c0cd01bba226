"""Static files served small and cached (静态资源): the npm packages under ``/vendor`` and
the pages' own scripts and styles under ``/maps/static``.

Text files of 1 KB and more are sent gzip-compressed to clients that accept it, compressed
once per file version and kept in memory (ECharts: 1.1 MB as 0.36 MB); every answer carries
an ETag (a 304 on revalidation) and ``Cache-Control``: npm packages change only with a new
install, so browsers keep them a day; the pages' own files are revalidated each time.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

VENDOR_CACHE = "public, max-age=86400"
PAGE_CACHE = "no-cache"
COMPRESSED = {".js", ".css", ".json", ".svg", ".html", ".map", ".txt", ".geojson", ".mjs"}
MIN_COMPRESSED = 1024  # smaller files gain less than the header costs [bytes]
MAX_KEPT = 16 * 1024 * 1024  # larger files are read afresh, never kept [bytes]
TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json"}  # fmt: skip


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    etag: str
    modified: str
    media_type: str


@lru_cache(maxsize=128)
def _asset(path: str, mtime_ns: int, size: int) -> Asset:
    """One version of a file (its path, time and size name it), compressed once."""
    body = Path(path).read_bytes()
    suffix = Path(path).suffix
    gzipped = None
    if suffix in COMPRESSED and len(body) >= MIN_COMPRESSED:
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    media_type = TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    return Asset(body, gzipped, etag, formatdate(mtime_ns / 1e9, usegmt=True), media_type)


def asset_response(path: Path, request_headers: Headers, cache_control: str) -> Response:
    """``path`` (an existing file) as an answer to a GET with ``request_headers``."""
    stat = path.stat()
    if stat.st_size > MAX_KEPT:
        modified = formatdate(stat.st_mtime, usegmt=True)
        etag = f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
        asset = Asset(path.read_bytes(), None, etag, modified, "application/octet-stream")
    else:
        asset = _asset(str(path), stat.st_mtime_ns, stat.st_size)
    zipped = asset.gzipped is not None and "gzip" in request_headers.get("accept-encoding", "")
    etag = f'"{asset.etag}-gz"' if zipped else f'"{asset.etag}"'
    headers = {"ETag": etag, "Cache-Control": cache_control, "Last-Modified": asset.modified}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    wanted = request_headers.get("if-none-match", "")
    if etag in (t.strip().removeprefix("W/") for t in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


class Assets:
    """An ASGI app serving the files under ``directory`` (no path leaves it)."""

    def __init__(self, directory: Path, cache_control: str = VENDOR_CACHE) -> None:
        self.root = directory.resolve()
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            response: Response = PlainTextResponse("Method Not Allowed", status_code=405)
        else:
            path = self.file(scope["path"].removeprefix(scope.get("root_path", "")))
            if path is None:
                response = PlainTextResponse("Not Found", status_code=404)
            else:
                response = asset_response(path, Headers(scope=scope), self.cache_control)
        await response(scope, receive, send)

    def file(self, relative: str) -> Path | None:
        try:
            path = (self.root / relative.lstrip("/")).resolve()
        except (OSError, ValueError):
            return None
        inside = path.is_relative_to(self.root) and path.is_file()
        return path if inside else None
