"""Place search (地名检索): find a district, street, community, grid, compound or facility
by what a dispatcher types — a code, a piece of the name, or its pinyin.

Ranking, best first: the exact code; the exact name; a code prefix (a street's code finds
its communities and grids); a name prefix; a name substring; the pinyin initials or
spelling of the most likely reading as a prefix, of another reading as a prefix, the
initials as a substring; last, for three characters or more, a name that is merely
similar (pg_trgm). Within a rank: closer by trigram word similarity, then the larger
kind (district first, facility last), then the shorter name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, String, TextClause, bindparam, text

from gis.errors import InvalidInput
from gis.models import PLACE_KINDS
from gis.places.index import refresh, stale_districts
from gis.places.spelling import latin, normalise

MAX_QUERY_CHARS = 100
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_CODE = re.compile(r"[0-9A-Z]*[0-9][0-9A-Z]*")
_PINYIN = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*")
_PATTERNS = ("key", "prefix", "sub", "code", "code_prefix", "py_prefix", "py_word", "py_sub")
# Trigram similarity says little of one character, and matches too much below three.
_SIMILAR_MIN_CHARS = 2
_FUZZY_MIN_CHARS = 3


@dataclass(frozen=True)
class PlaceQuery:
    """A checked query: its compare form, and its code and pinyin forms where it can be one."""

    key: str
    code: str | None
    pinyin: str | None
    kinds: tuple[str, ...]
    limit: int


def parse_query(q: str | None, kind: str | None = None, limit: int | None = None) -> PlaceQuery:
    """Check ``q`` (1-100 characters), ``kind`` (kinds, comma-separated) and ``limit``."""
    if q is None or not q.strip():
        raise InvalidInput("q is required: a code, a name or its pinyin initials", field="q")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"q is {len(q)} characters; at most {MAX_QUERY_CHARS} are searched", field="q"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in q.strip()):
        raise InvalidInput("q must not hold control characters", field="q")
    kinds = tuple(dict.fromkeys(k.strip() for k in (kind or "").split(",") if k.strip()))
    unknown = [k for k in kinds if k not in PLACE_KINDS]
    if unknown:
        raise InvalidInput(
            f"kind must be among {', '.join(PLACE_KINDS)}; got {', '.join(unknown)}",
            field="kind",
        )
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}, got {limit}", field="limit")
    key = normalise(q)
    if not key:
        raise InvalidInput("q holds nothing to search for", field="q")
    code = key.upper() if _CODE.fullmatch(key.upper()) else None
    spelled = latin(q)
    pinyin = spelled if _PINYIN.fullmatch(key.replace("'", "")) and spelled else None
    return PlaceQuery(key=key, code=code, pinyin=pinyin, kinds=kinds, limit=limit)


@dataclass(frozen=True)
class Place:
    kind: str
    code: str
    name: str
    district: str | None
    street: str | None
    community: str | None
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]

    @property
    def label(self) -> str:
        """The name and the units above it, narrowest first (五四里社区 · 南滩街道 · 城中区):
        many compounds share a name, and this tells them apart."""
        parts = (self.name, self.community, self.street, self.district)
        return " · ".join(p for p in parts if p)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "district": self.district,
            "street": self.street,
            "community": self.community,
            "label": self.label,
            "point": list(self.point),
            "bbox": list(self.bbox),
        }


def search(conn: Connection, query: PlaceQuery) -> list[Place]:
    """The best ``query.limit`` places for the query, over an index brought up to date first.

    ``conn`` must have no transaction open (a stale index is rebuilt in one of its own)."""
    with conn.begin():
        if not stale_districts(conn):
            return _found(conn, query)
    refresh(conn)
    with conn.begin():
        return _found(conn, query)


def _found(conn: Connection, query: PlaceQuery) -> list[Place]:
    params: dict[str, Any] = {
        "key": query.key,
        "prefix": _like(query.key) + "%",
        "sub": "%" + _like(query.key) + "%",
        "limit": query.limit,
    }
    if query.kinds:
        params["kinds"] = list(query.kinds)
    if query.code is not None:
        params.update(code=query.code, code_prefix=_like(query.code) + "%")
    if query.pinyin is not None:
        py = _like(query.pinyin)
        params.update(py_prefix=py + "%", py_word="% " + py + "%", py_sub="%" + py + "%")
    words = query.code is None and query.pinyin is None  # typed in characters
    statement = _statement(
        query.code is not None,
        query.pinyin is not None,
        words and len(query.key) >= _SIMILAR_MIN_CHARS,
        words and len(query.key) >= _FUZZY_MIN_CHARS,
        bool(query.kinds),
    )
    return [
        Place(
            kind=r.kind,
            code=r.code,
            name=r.name,
            district=r.district,
            street=r.street,
            community=r.community,
            point=(r.lon, r.lat),
            bbox=(r.min_lon, r.min_lat, r.max_lon, r.max_lat),
        )
        for r in conn.execute(statement, params)
    ]


def _like(value: str) -> str:
    """``value`` matched literally inside a LIKE pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@lru_cache(maxsize=32)
def _statement(code: bool, pinyin: bool, similar: bool, fuzzy: bool, kinds: bool) -> TextClause:
    """The search SQL for the forms the query takes; only the matching conditions appear,
    so the planner sees plain trigram and prefix conditions it can take to the indexes."""
    ranks = []
    found = ["key LIKE :sub"]
    if code:
        ranks += ["WHEN code = :code THEN 0", "WHEN code LIKE :code_prefix THEN 2"]
        found.append("code LIKE :code_prefix")
    ranks += [
        "WHEN key = :key THEN 1",
        "WHEN key LIKE :prefix THEN 3",
        "WHEN key LIKE :sub THEN 4",
    ]
    if pinyin:
        # The most likely reading comes first in each column, so a plain prefix is its prefix.
        ranks += [
            "WHEN initials LIKE :py_prefix OR spell LIKE :py_prefix THEN 5",
            "WHEN ' ' || initials LIKE :py_word OR ' ' || spell LIKE :py_word THEN 6",
            "WHEN initials LIKE :py_sub THEN 7",
        ]
        found += ["initials LIKE :py_sub", "(spell LIKE :py_sub AND ' ' || spell LIKE :py_word)"]
    if fuzzy:
        found.append(":key <% key")
    kind_order = ", ".join(f"'{k}'" for k in PLACE_KINDS)
    # Trigram similarity ranks names typed in characters; against a code or pinyin, or for
    # one character, it says nothing and costs a microsecond or two a row (thousands).
    similarity = "word_similarity(:key, key) DESC," if similar else ""
    where = "(" + " OR ".join(found) + ")" + (" AND kind = ANY(:kinds)" if kinds else "")
    statement = text(
        f"""
SELECT kind, code, name, district, street, community,
       lon, lat, min_lon, min_lat, max_lon, max_lat
  FROM place_names
 WHERE {where}
 ORDER BY CASE {" ".join(sorted(ranks, key=_rank_of))} ELSE 8 END,
          {similarity}
          array_position(ARRAY[{kind_order}], kind::text),
          length(key), code
 LIMIT :limit
"""
    )
    # The patterns go into the SQL as literals: a prepared statement's generic plan cannot
    # know a LIKE pattern, and would scan every row instead of taking the trigram index.
    return statement.bindparams(
        *(
            bindparam(name, type_=String, literal_execute=True)
            for name in _PATTERNS
            if f":{name}" in statement.text
        )
    )


def _rank_of(clause: str) -> int:
    return int(clause.rsplit(" ", 1)[1])
