"""A plain Server-Sent Events client over httpx, read in the calling thread.

Comments (heartbeats) are skipped; each message comes back with its ``id``, ``event``,
``data`` and ``retry`` fields as the server sent them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

PATH = "/api/v1/events/stream"


@dataclass(frozen=True)
class Message:
    id: str | None
    event: str | None
    data: str | None
    retry: int | None

    def json(self) -> dict[str, Any]:
        assert self.data is not None, self
        body: dict[str, Any] = json.loads(self.data)
        return body


class StreamEnded(Exception):
    """The server closed the stream."""


class Stream:
    """One open ``GET /api/v1/events/stream``; ``next()`` returns its next message."""

    def __init__(
        self,
        client: httpx.Client,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._context = client.stream(
            "GET",
            PATH,
            params=params or {},
            headers={"Accept": "text/event-stream", **(headers or {})},
            timeout=httpx.Timeout(30.0),
        )
        self.response = self._context.__enter__()
        self._lines: Iterator[str] = self.response.iter_lines()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def next(self, within_s: float = 30.0) -> Message:
        """The next message; :class:`StreamEnded` when the server ends the stream."""
        deadline = time.monotonic() + within_s
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if fields:
                    retry = fields.get("retry")
                    return Message(
                        fields.get("id"),
                        fields.get("event"),
                        fields.get("data"),
                        int(retry) if retry is not None else None,
                    )
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data" and "data" in fields:
                    value = fields["data"] + "\n" + value
                fields[name] = value
            # Heartbeats come every 15 s, so a stream that sends nothing still gets here.
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message within {within_s} s")
        raise StreamEnded

    def start(self) -> int:
        """The first message: only an id, where the stream starts (and a retry delay)."""
        first = self.next()
        assert first.data is None and first.event is None and first.retry, first
        assert first.id is not None
        return int(first.id)

    def events(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` messages, each an event: their data, checked against id and kind."""
        out = []
        for _ in range(count):
            message = self.next()
            body = message.json()
            assert message.id == str(body["id"]) and message.event == body["kind"], message
            out.append(body)
        return out
