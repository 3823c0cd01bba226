"""Reading one file from a ``multipart/form-data`` body, in memory.

Photo uploads are a few megabytes: the generic form parser spools each file part to a
temporary file on disk, one thread hop per chunk, which costs more than the parsing. Here
the body is read once (within its limit) and the part named ``field`` is cut out by
python-multipart's parser; other parts are skipped. Any problem is an
:class:`~gis.errors.InvalidInput` (or :class:`~gis.errors.TooLarge`) naming ``field``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from gis.errors import InvalidInput, TooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FORM = b"multipart/form-data"
# What the multipart wrapping of one file may add to the file's own bytes.
MULTIPART_ROOM = 64 * 1024


async def read_file_field(request: Request, field: str, limit: int) -> bytes:
    """The bytes of the file part named ``field``; ``limit``: the most the body may hold."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != FORM or not boundary:
        raise InvalidInput(
            f"{field}: send the photo as multipart/form-data in the field {field}", field=field
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{field}: request body larger than {limit} bytes", field=field)
    found = _FilePart(field)
    parser = MultipartParser(boundary, found.callbacks())
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{field}: request body larger than {limit} bytes", field=field)
            parser.write(chunk)
        parser.finalize()
    except (ValueError, KeyError) as exc:  # python-multipart's MultipartParseError is one
        raise InvalidInput(f"{field}: the multipart body is malformed", field=field) from exc
    if found.data is None:
        raise InvalidInput(f"{field}: no file in the field {field}", field=field)
    return bytes(found.data)


class _FilePart:
    """Callbacks that keep the data of the first part named ``field`` that carries a file."""

    def __init__(self, field: str) -> None:
        self.field = field.encode()
        self.data: bytearray | None = None
        self._name = b""
        self._value = b""
        self._disposition = b""
        self._current: bytearray | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _begin(self) -> None:
        self._disposition = b""
        self._name = self._value = b""
        self._current = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._name.lower() == b"content-disposition":
            self._disposition = self._value
        self._name = self._value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        is_file = b"filename" in params or b"filename*" in params
        if self.data is None and is_file and params.get(b"name") == self.field:
            self._current = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current += data[start:end]

    def _part_end(self) -> None:
        if self._current is not None:
            self.data, self._current = self._current, None
