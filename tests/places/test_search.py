"""Place search over the demo city: Chinese, pinyin initials and codes find the right place,
with the names above it, a point inside it and its box; edits by any path show at once."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pypinyin import Style, lazy_pinyin, pinyin
from sqlalchemy import Engine, text

from gis.db import make_engine
from gis.places import refresh
from tests.conftest import LiveServer, role_tokens

PATH = "/api/v1/places/search"
UNIT = """
SELECT c.code, c.name, s.name AS street, d.name AS district
  FROM communities c
  JOIN streets s ON s.code = c.street_code AND s.valid_to IS NULL
  JOIN districts d ON d.code = c.district_code AND d.valid_to IS NULL
 WHERE c.valid_to IS NULL
"""


def find(http: httpx.Client, token: str, q: str, **params: Any) -> list[dict[str, Any]]:
    r = http.get(PATH, params={"q": q, **params}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


@pytest.fixture(scope="module")
def viewer(demo_tokens: dict[str, str]) -> str:
    return demo_tokens["viewer"]


@pytest.fixture(scope="module")
def community(demo_engine: Engine) -> dict[str, Any]:
    """A community named by a piece of its name (not its start) that no other community,
    street or district holds."""
    with demo_engine.connect() as conn:
        rows = conn.execute(text(UNIT + " ORDER BY c.code")).mappings().all()
        others = list(
            conn.execute(
                text(
                    "SELECT name FROM streets WHERE valid_to IS NULL"
                    " UNION ALL SELECT name FROM districts WHERE valid_to IS NULL"
                )
            ).scalars()
        )
    names = [r["name"] for r in rows] + others
    for row in rows:
        piece = row["name"][1:-2]  # 五四巷社区 → 四巷
        if len(piece) >= 2 and sum(piece in n for n in names) == 1:
            return {**row, "piece": piece}
    raise AssertionError("no community has a piece of name of its own")


def test_a_piece_of_a_name_finds_the_community_with_its_street_and_district(
    demo_http: httpx.Client, viewer: str, community: dict[str, Any], demo_engine: Engine
) -> None:
    items = find(demo_http, viewer, community["piece"])
    first = items[0]
    assert (first["kind"], first["code"], first["name"]) == (
        "community",
        community["code"],
        community["name"],
    )
    assert (first["district"], first["street"], first["community"]) == (
        community["district"],
        community["street"],
        None,
    )
    parts = (community["name"], community["street"], community["district"])
    assert first["label"] == " · ".join(parts)
    # Its grids hold the piece too, and come after it.
    assert {i["kind"] for i in items[1:]} <= {"grid", "compound", "facility"}
    with demo_engine.connect() as conn:
        inside, box = conn.execute(
            text(
                "SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490)),"
                " ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)]"
                " FROM communities WHERE code = :c AND valid_to IS NULL"
            ),
            {"x": first["point"][0], "y": first["point"][1], "c": community["code"]},
        ).one()
    assert inside
    assert first["bbox"] == pytest.approx(box, abs=1e-6)


def test_pinyin_initials_and_spelling_find_the_community(
    demo_http: httpx.Client, viewer: str, community: dict[str, Any]
) -> None:
    typed = initials(community["name"])
    assert typed.isascii() and typed.isalpha()
    found = find(demo_http, viewer, typed, kind="community")
    assert community["code"] in [i["code"] for i in found]
    # Upper case and the first syllables of the full spelling work as well.
    spelled = "".join(lazy_pinyin(community["name"]))[:7]
    assert community["code"] in [i["code"] for i in find(demo_http, viewer, typed.upper())]
    assert community["code"] in [
        i["code"] for i in find(demo_http, viewer, spelled, kind="community", limit=100)
    ]


def test_wsx_finds_wusixiang(demo_http: httpx.Client, viewer: str, demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        codes = set(
            conn.execute(
                text("SELECT code FROM communities WHERE valid_to IS NULL AND name LIKE '五四巷%'")
            ).scalars()
        )
    assert codes, "the demo city has a 五四巷 community"
    items = find(demo_http, viewer, "wsx")
    assert items[0]["name"].startswith("五四巷")
    assert codes <= {i["code"] for i in items}
    assert all(initials(i["name"]).startswith("wsx") for i in items[: len(codes)])


def test_a_grid_by_its_code_and_by_a_prefix(
    demo_http: httpx.Client, viewer: str, demo_engine: Engine
) -> None:
    with demo_engine.connect() as conn:
        grid = (
            conn.execute(
                text(
                    "SELECT g.code, g.name, c.name AS community FROM grids g"
                    " JOIN communities c ON c.code = g.community_code AND c.valid_to IS NULL"
                    " WHERE g.valid_to IS NULL ORDER BY g.code OFFSET 1000 LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
        prefix = grid["code"][:13]
        under = set(
            conn.execute(
                text("SELECT code FROM grids WHERE valid_to IS NULL AND code LIKE :p"),
                {"p": prefix + "%"},
            ).scalars()
        )
    first = find(demo_http, viewer, grid["code"])[0]
    assert (first["kind"], first["code"], first["name"], first["community"]) == (
        "grid",
        grid["code"],
        grid["name"],
        grid["community"],
    )
    found = find(demo_http, viewer, prefix, kind="grid", limit=100)
    assert {i["code"] for i in found} == under
    # A community's code: the community first, then what lies under it.
    items = find(demo_http, viewer, grid["code"][:12], limit=50)
    assert (items[0]["kind"], items[0]["code"]) == ("community", grid["code"][:12])
    assert all(i["code"].startswith(grid["code"][:12]) for i in items)


def test_every_point_lies_in_its_box(
    demo_http: httpx.Client, viewer: str, demo_engine: Engine
) -> None:
    with demo_engine.connect() as conn:
        station = conn.execute(text("SELECT min(code) FROM facilities")).scalar_one()
    items = find(demo_http, viewer, "五四", limit=100)
    items += find(demo_http, viewer, station[:5], limit=100)  # a code's start: ES630…
    assert {i["kind"] for i in items} >= {"community", "grid", "compound", "facility"}
    for item in items:
        (x, y), (x0, y0, x1, y1) = item["point"], item["bbox"]
        assert x0 <= x <= x1 and y0 <= y <= y1, item
        assert 100 < x < 102 and 36 < y < 38, item  # Xining, lon/lat


def test_kind_filter(demo_http: httpx.Client, viewer: str) -> None:
    assert {i["kind"] for i in find(demo_http, viewer, "五四", kind="grid")} == {"grid"}
    both = find(demo_http, viewer, "五四", kind="community,grid", limit=100)
    assert {i["kind"] for i in both} == {"community", "grid"}
    assert [i["kind"] for i in both] == sorted(
        (i["kind"] for i in both), key=["community", "grid"].index
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "五" * 200}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({}, "q"),
        ({"q": "五四\x00"}, "q"),
        ({"q": "五四", "kind": "river"}, "kind"),
        ({"q": "五四", "limit": "0"}, "limit"),
        ({"q": "五四", "limit": "101"}, "limit"),
    ],
)
def test_bad_input_names_the_field(
    demo_http: httpx.Client, viewer: str, params: dict[str, str], field: str
) -> None:
    r = demo_http.get(PATH, params=params, headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


# -- edits, on a private copy ---------------------------------------------------------


@dataclass
class Copy:
    engine: Engine
    http: httpx.Client
    tokens: dict[str, str]

    def find(self, q: str, **params: Any) -> list[dict[str, Any]]:
        return find(self.http, self.tokens["viewer"], q, **params)

    def sql(self, statement: str, **params: Any) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(text(statement), params)


@pytest.fixture
def copy(demo_copy: Callable[[], str]) -> Iterator[Copy]:
    gc.collect()  # a loader's dropped engine may still hold the template (see editing tests)
    url = demo_copy()
    engine = make_engine(url, pool_size=2)
    tokens = role_tokens(url, "places")
    with LiveServer(url) as server, server.client() as http:
        yield Copy(engine, http, tokens)
    engine.dispose()


def test_a_rename_by_plain_sql_is_found_by_its_new_name_and_every_reading(copy: Copy) -> None:
    new = "曾家寨小区"
    readings = pinyin(new, style=Style.FIRST_LETTER, heteronym=True)[0]
    assert len(readings) >= 2, "曾 reads ceng or zeng"
    assert not copy.find(new, kind="compound")
    code = copy.sql("SELECT code FROM compounds ORDER BY code OFFSET 77 LIMIT 1").scalar_one()
    copy.sql("UPDATE compounds SET name = :n WHERE code = :c", n=new, c=code)
    with copy.engine.connect() as conn:
        assert refresh(conn) == 2  # one row out, one in: the rest of its district is as it was
    for q in [new, "家寨", *(r + initials(new)[1:] for r in readings)]:
        assert code in [i["code"] for i in copy.find(q, kind="compound")], q
    # LIKE's wildcards in a query are plain characters.
    odd = copy.sql("SELECT code FROM compounds ORDER BY code OFFSET 78 LIMIT 1").scalar_one()
    copy.sql("UPDATE compounds SET name = '百分%之_百' WHERE code = :c", c=odd)
    for q in ("%", "_", "%之_"):
        assert [i["code"] for i in copy.find(q)] == [odd], q


def test_a_community_renamed_renames_the_parent_of_its_grids(copy: Copy) -> None:
    code, old = copy.sql(UNIT + " ORDER BY c.code OFFSET 40 LIMIT 1").one()[:2]
    new = "晨曦湾社区"
    assert not copy.find(new)
    copy.sql("UPDATE communities SET name = :n WHERE code = :c AND valid_to IS NULL", n=new, c=code)
    assert copy.find(new)[0]["code"] == code
    assert code not in [i["code"] for i in copy.find(old, kind="community")]
    assert code in [i["code"] for i in copy.find(initials(new), kind="community")]
    grid = copy.find(code, kind="grid")[0]
    assert grid["community"] == new


def test_a_grid_merge_shows_at_once(copy: Copy) -> None:
    keep, gone = copy.sql(
        "SELECT a.code, b.code FROM grids a JOIN grids b"
        " ON a.community_code = b.community_code AND a.code < b.code"
        " AND ST_Relate(a.geom, b.geom, 'F***1****')"
        " WHERE a.valid_to IS NULL AND b.valid_to IS NULL ORDER BY a.code LIMIT 1"
    ).one()
    before = copy.find(keep, kind="grid")[0]
    assert [i["code"] for i in copy.find(gone, kind="grid")] == [gone]
    version = copy.sql("SELECT max(id) FROM boundary_versions").scalar_one()
    r = copy.http.post(
        "/api/v1/edits",
        json={"operation": "merge", "grids": [keep, gone], "base_version": version, "reason": "t"},
        headers={"Authorization": f"Bearer {copy.tokens['planner']}"},
    )
    assert r.status_code == 201, r.text
    assert copy.find(gone, kind="grid") == []
    after = copy.find(keep, kind="grid")[0]
    box = copy.sql(
        "SELECT ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)] FROM grids"
        " WHERE code = :c AND valid_to IS NULL",
        c=keep,
    ).scalar_one()
    assert after["bbox"] == pytest.approx(box, abs=1e-6)
    assert after["bbox"] != before["bbox"]


def test_a_retired_facility_is_no_longer_found(copy: Copy) -> None:
    code = copy.sql("SELECT code FROM facilities ORDER BY code LIMIT 1").scalar_one()
    assert copy.find(code)[0]["code"] == code
    copy.sql("UPDATE facilities SET active = false, retired_at = now() WHERE code = :c", c=code)
    assert code not in [i["code"] for i in copy.find(code)]


def test_searches_racing_after_a_change_all_see_it(copy: Copy) -> None:
    """One of them rebuilds the district; the others wait for it, none fails or answers stale."""
    code = copy.sql("SELECT code FROM compounds ORDER BY code DESC LIMIT 1").scalar_one()
    new = "望湖湾小区"
    copy.sql("UPDATE compounds SET name = :n WHERE code = :c", n=new, c=code)

    def first_code(_: int) -> str:
        with httpx.Client(base_url=str(copy.http.base_url), timeout=30) as http:
            return str(find(http, copy.tokens["viewer"], new)[0]["code"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(first_code, range(6))) == [code] * 6
    with copy.engine.connect() as conn:
        assert refresh(conn) == 0  # nothing left stale
