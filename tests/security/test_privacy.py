"""Residents' personal data never reaches viewers, anonymous callers, tiles or public feeds.

Every GET route of the app (discovered, so new ones are covered) is fetched as anonymous
and as a viewer with real identifiers from the demo city, and every answer — JSON, HTML,
XML, vector tiles — is searched for the reporters' phone numbers and names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import routing
from fastapi.routing import APIRoute
from sqlalchemy import func, select, text

from api.app import create_app
from gis import privacy
from gis.db import make_engine, session_scope
from gis.models import AuditEntry, Grid, Incident, IncidentCategory
from gis.settings import Settings
from gis.tokens import create_token
from tests.conftest import LiveServer
from tests.security.conftest import bearer

# Reports posted by this test on top of the demo city's own, with known personal data.
OWN_REPORTERS = [("欧阳秀英", "13912345678"), ("马建国", "18609711234"), ("李娜", "15297004321")]
SKIP_PREFIXES = ("/docs", "/openapi", "/vendor", "/api/v1/audit", "/api/v1/tokens")
# People whose names the pages show by right: grid workers, party secretaries, and the units'
# staff who act on cases and handle them.
PUBLIC_NAMES = """
SELECT worker_name FROM grids WHERE worker_name IS NOT NULL
UNION SELECT secretary FROM party_branches WHERE secretary IS NOT NULL
UNION SELECT actor FROM incident_events
UNION SELECT handler FROM incident_reports WHERE handler IS NOT NULL
"""


@dataclass
class City:
    server: LiveServer
    url: str
    tokens: dict[str, str]
    incident_ids: list[int]
    phones: set[str]
    names: set[str]
    grid_code: str

    def client(self, role: str) -> httpx.Client:
        headers = {} if role == "anonymous" else bearer(self.tokens[role])
        return httpx.Client(base_url=self.server.base_url, timeout=60, headers=headers)


@pytest.fixture(scope="module")
def city(demo_copy: Callable[[], str]) -> Iterator[City]:
    url = demo_copy()
    engine = make_engine(url, pool_size=1)
    with session_scope(engine) as session:
        tokens = {r: create_token(session, r, f"privacy-{r}")[0] for r in privacy.ROLE_ORDER[1:]}
        category = session.scalars(select(IncidentCategory.code).limit(1)).one()
        grid = session.scalars(select(Grid).where(Grid.valid_to.is_(None)).limit(1)).one()
        lon, lat = session.execute(
            select(
                func.ST_X(func.ST_PointOnSurface(Grid.geom)),
                func.ST_Y(func.ST_PointOnSurface(Grid.geom)),
            ).where(Grid.id == grid.id)
        ).one()
        grid_code = grid.code
    server = LiveServer(url).start()
    with httpx.Client(base_url=server.base_url, headers=bearer(tokens["dispatcher"])) as c:
        for n, (name, phone) in enumerate(OWN_REPORTERS):
            posted = c.post(
                "/api/v1/incidents",
                json={
                    "external_id": f"PRIV-{n}",
                    "channel": "hotline_call",
                    "category_code": category,
                    "description": "楼道堆放杂物",
                    "lon": lon,
                    "lat": lat,
                    "crs": "cgcs2000",
                    "reporter_name": name,
                    "reporter_phone": phone,
                },
            )
            assert posted.status_code == 201, posted.text
    with session_scope(engine) as session:
        rows = session.execute(
            select(Incident.id, Incident.reporter_name, Incident.reporter_phone).order_by(
                Incident.external_id.like("PRIV-%").desc(), Incident.id
            )
        ).all()
        public = set(session.execute(text(PUBLIC_NAMES)).scalars())
    engine.dispose()
    # A reporter who shares a name with someone shown on the pages by right (a grid worker,
    # a party secretary, a unit's staff) cannot be told apart by name; their phone still is.
    shared = {name[i : i + n] for name in public for n in (2, 3, 4) for i in range(len(name))}
    try:
        yield City(
            server,
            url,
            tokens,
            [r.id for r in rows[:40]],
            {r.reporter_phone for r in rows if r.reporter_phone},
            {
                r.reporter_name
                for r in rows
                if r.reporter_name and len(r.reporter_name) >= 2 and r.reporter_name not in shared
            },
            grid_code,
        )
    finally:
        server.stop()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def urls(city: City) -> list[str]:
    """Every GET route of the app, filled with identifiers that exist."""
    app = create_app(Settings(database_url=city.url), url=city.url)
    x, y = tile_of(101.78, 36.62, 13)
    with city.client("admin") as admin:
        collections = [c["id"] for c in admin.get("/ogc/collections").json()["collections"]]
    values: dict[str, list[str]] = {
        "incident_id": [str(i) for i in city.incident_ids[:5]],
        "request_id": [str(i) for i in city.incident_ids[:5]],
        "code": [city.grid_code],
        "collection_id": collections,
        "layer": ["incidents", "grids", "communities", "facilities", "districts"],
        "z": ["13"],
        "x": [str(x)],
        "y": [str(y)],
        "fmt": ["json", "xml"],
    }
    out: list[str] = []
    for context in routing.iter_route_contexts(app.routes):
        path = context.path or ""
        if not isinstance(context.original_route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        if path.startswith(SKIP_PREFIXES):
            continue
        filled = [path]
        for name in re.findall(r"\{(\w+)\}", path):
            choices = values.get(name, ["1"])
            filled = [f.replace("{" + name + "}", v) for f in filled for v in choices]
        out += filled
    for collection in collections:
        out.append(f"/ogc/collections/{collection}/items?limit=1000")
    out += ["/api/v1/incidents?limit=1000", "/open311/v2/requests.json", "/open311/v2/requests.xml"]
    return out


def exposed(body: bytes, city: City) -> set[str]:
    """Reporters' phones and names found in ``body`` (set look-ups, not a scan per person)."""
    text = body.decode("utf-8", errors="replace")
    found = set(re.findall(r"(?<!\d)\d{11}(?!\d)", text)) & city.phones
    pieces = {
        run[i : i + n]
        for run in re.findall(r"[\u3400-\u9fff]{2,}", text)
        for n in (2, 3, 4)
        for i in range(len(run) - n + 1)
    }
    return found | (pieces & city.names)


@pytest.mark.parametrize("role", ["anonymous", "viewer"])
def test_no_personal_data_in_anything_a_viewer_sees(city: City, role: str) -> None:
    assert len(city.phones) >= len(OWN_REPORTERS)
    seen_masked = 0
    fetched = 0
    with city.client(role) as client:
        for url in urls(city):
            response = client.get(url)
            assert response.status_code < 500, (url, response.text[:300])
            if response.status_code >= 400:
                continue
            fetched += 1
            assert exposed(response.content, city) == set(), (role, url)
            seen_masked += len(re.findall(r"1\d\d\*{4}\d{4}", response.text))
    assert fetched > 20
    assert seen_masked > 0  # masked numbers do appear where incidents are listed


def test_dispatchers_see_and_their_reads_are_audited(city: City) -> None:
    incident = city.incident_ids[0]
    with city.client("dispatcher") as client:
        one = client.get(f"/api/v1/incidents/{incident}")
    assert one.status_code == 200
    assert one.json()["reporter_phone"] in city.phones
    engine = make_engine(city.url, pool_size=1)
    with session_scope(engine) as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "personal_data.read")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
    engine.dispose()
    assert entry.role == "dispatcher" and entry.actor == "privacy-dispatcher"
    assert entry.resource == f"GET /api/v1/incidents/{incident}"
    assert entry.detail["refs"] == [incident]


def test_a_write_that_shows_personal_data_is_logged_twice(city: City) -> None:
    """A dispatcher's post answers with the reporter's phone: the write and the read of
    personal data are two rows of the log, one after the other."""
    engine = make_engine(city.url, pool_size=1)
    with session_scope(engine) as session:
        rows = session.execute(
            select(AuditEntry.id, AuditEntry.action, AuditEntry.status)
            .where(
                AuditEntry.actor == "privacy-dispatcher",
                AuditEntry.resource == "POST /api/v1/incidents",
            )
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert len(rows) == 2 * len(OWN_REPORTERS)
    for write, read in zip(rows[::2], rows[1::2], strict=True):
        assert (write.action, read.action) == ("write", "personal_data.read")
        assert read.id == write.id + 1 and write.status == read.status == 201


def test_include_personal_is_an_audited_admin_export(city: City) -> None:
    for role in ("viewer", "dispatcher", "planner"):
        with city.client(role) as client:
            refused = client.get("/api/v1/incidents", params={"include_personal": "true"})
        assert refused.status_code == 403, (role, refused.text)
    with city.client("viewer") as client:
        masked = client.get("/api/v1/incidents", params={"limit": 5}).json()["items"]
    assert masked and all(
        i["reporter_phone"] is None or "****" in i["reporter_phone"] for i in masked
    )
    with city.client("admin") as client:
        exported = client.get("/api/v1/incidents", params={"include_personal": "true", "limit": 5})
        assert exported.status_code == 200
        phones = [i["reporter_phone"] for i in exported.json()["items"] if i["reporter_phone"]]
        assert phones and set(phones) <= city.phones
        log = client.get("/api/v1/audit", params={"action": "personal_data.export"}).json()
    entry = log["entries"][0]
    assert entry["role"] == "admin" and "include_personal=true" in entry["resource"]
    assert entry["detail"]["count"] == len(phones)


def test_masks() -> None:
    assert privacy.mask_phone("13812345678") == "138****5678"
    assert privacy.mask_phone("0971-8123456") == "097*****3456"
    assert privacy.mask_name("欧阳秀英") == "欧***"
    assert privacy.present({"reporter_phone": "13812345678", "id": 1}, reveal=False) == {
        "reporter_phone": "138****5678",
        "id": 1,
    }
    assert privacy.reveals_personal_data("dispatcher")
    assert not privacy.reveals_personal_data("viewer")
    assert not privacy.reveals_personal_data("admin", public=True)
    assert privacy.reveals_personal_data("admin", public=True, export=True)
    assert not privacy.reveals_personal_data("planner", export=True)


def test_audit_time_line_shows_incident_events(city: City) -> None:
    with city.client("admin") as client:
        page = client.get(
            "/api/v1/audit",
            params={"action": "incident.event", "since": "2000-01-01T00:00:00Z", "limit": 5},
        )
    assert page.status_code == 200
    entries = page.json()["entries"]
    assert entries and all(e["source"] == "incident_events" for e in entries)
    assert entries[0]["resource"].startswith("incidents/")
    assert entries[0]["detail"]["kind"] in ("received", "transition", "reassigned")
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)


def test_audit_time_line_shows_boundary_versions(city: City) -> None:
    with city.client("admin") as client:
        page = client.get("/api/v1/audit", params={"action": "boundary.edit"})
    entries = page.json()["entries"]
    assert entries and entries[0]["source"] == "boundary_versions"
    assert entries[0]["resource"].startswith("boundary_versions/")
    assert set(entries[0]["detail"]) == {"operation", "reason", "base_version_id"}
