"""Built map pages (and boundary tiles) kept per process, valid while what they show is
unchanged (页面缓存).

A page is rebuilt only when its key changes. The key holds the content epoch of the
database (:func:`content_epoch`), so every write that changes what a page draws gives it
a new key: boundary and station writes move ``assignment_inputs.epoch`` (migrations 0005,
0006), and every statement on districts, streets, communities, grids, compounds and
facilities of any type moves the ``place_name_epochs`` of the districts it touched
(migration 0008) - a canteen moved, an outline edited, classes recomputed alike.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import Connection, text

# One round trip; the digest changes whenever any district's epoch or the global one does.
CONTENT_EPOCH_SQL = (
    "SELECT (SELECT epoch FROM assignment_inputs WHERE id = 1),"
    " (SELECT md5(coalesce(string_agg(district_code || ':' || epoch, ','"
    "  ORDER BY district_code), '')) FROM place_name_epochs)"
)
_EPOCH = text(CONTENT_EPOCH_SQL)


def epoch_label(epoch: int | None, places: str | None) -> str:
    return f"{epoch or 0}:{places}"


def content_epoch(conn: Connection) -> str:
    """What the pages' content is at: moves with every write a page could show."""
    epoch, places = conn.execute(_EPOCH).one()
    return epoch_label(epoch, places)


@dataclass(frozen=True)
class Page:
    """A built page: its HTML as sent, and its ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, html: str, etag: str | None = None) -> Page:
        """``etag`` defaults to a digest of the bytes."""
        body = html.encode("utf-8")
        return cls(body, etag or '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


def etag_of(*inputs: object) -> str:
    """An ETag from what a page is built of (its key and content epoch, or its data).

    folium names a page's elements at random, so the same inputs never give the same bytes
    twice; a digest of the inputs is the same in every worker process. It changes with the
    content epoch even where the HTML would not (a page whose boundaries come from tiles
    after a class recompute): what the page shows has changed, so the browser reloads it.
    """
    return '"' + hashlib.blake2b(repr(inputs).encode(), digest_size=12).hexdigest() + '"'


class PageCache:
    """The latest pages by key, at most ``size`` of them (least recently used go first).

    One build per key at a time: requests for a page being built wait for it instead of
    building it again.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], Page]) -> Page:
        page = self._cached(key)
        if page is not None:
            return page
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            page = self._cached(key)
            if page is None:
                page = build()
                with self._lock:
                    self.builds += 1
                    self._pages[key] = page
                    while len(self._pages) > self.size:
                        self._pages.popitem(last=False)
            with self._lock:
                self._building.pop(key, None)
        return page

    def _cached(self, key: Hashable) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page


class ByteCache:
    """Byte strings by key, at most ``budget`` bytes of them (least recently used go first)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Hashable, item: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(item) - (len(old) if old is not None else 0)
            self._items[key] = item
            while self.size > self.budget and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)
