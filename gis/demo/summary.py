"""What ``load_demo`` reports: the demo database's contents and what a run changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.validity import boundary_current


@dataclass
class DemoSummary:
    """What the demo database holds, and whether this run changed anything."""

    version_id: int
    created: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    chengzhong: dict[str, int] = field(default_factory=dict)
    added_by_steps: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.created or any(self.added_by_steps.values())

    def rows(self) -> list[tuple[str, str]]:
        """(item, count) rows for a table."""
        out = [(k, f"{v:,}") for k, v in self.counts.items()]
        out += [(f"class {k} communities", f"{v:,}") for k, v in self.classes.items()]
        out += [(f"Chengzhong 630103 {k}", f"{v:,}") for k, v in self.chengzhong.items()]
        out += [(f"added: {k}", f"{v:,}") for k, v in self.added_by_steps.items()]
        return out


CURRENT = boundary_current()
COUNT_SQL = {
    "districts": f"SELECT count(*) FROM districts WHERE {CURRENT}",
    "streets and towns": f"SELECT count(*) FROM streets WHERE {CURRENT}",
    "communities": f"SELECT count(*) FROM communities WHERE {CURRENT}",
    "comprehensive grids": f"SELECT count(*) FROM grids WHERE {CURRENT} AND kind = 'comprehensive'",
    "dedicated grids": f"SELECT count(*) FROM grids WHERE {CURRENT} AND kind = 'dedicated'",
    "compounds": "SELECT count(*) FROM compounds",
    "buildings": "SELECT count(*) FROM buildings",
    "households": "SELECT coalesce(sum(households), 0) FROM buildings",
    "residents": "SELECT coalesce(sum(residents), 0) FROM buildings",
    "community party committees": "SELECT count(*) FROM party_branches"
    " WHERE kind = 'community_committee'",
    "grid party branches": "SELECT count(*) FROM party_branches WHERE kind = 'grid_branch'",
    "compound party branches": "SELECT count(*) FROM party_branches WHERE kind = 'compound_branch'",
    "building party groups": "SELECT count(*) FROM party_branches WHERE kind = 'building_group'",
    "enforcement stations": "SELECT count(*) FROM facilities WHERE type = 'enforcement_station'",
    "elderly canteens": "SELECT count(*) FROM facilities WHERE type = 'elderly_canteen'",
    "incident categories": "SELECT count(*) FROM incident_categories",
    "incidents": "SELECT count(*) FROM incidents",
}
CHENGZHONG_SQL = {
    "streets and towns": f"SELECT count(*) FROM streets WHERE {CURRENT} AND district_code = :d",
    "communities": f"SELECT count(*) FROM communities WHERE {CURRENT} AND district_code = :d",
    "households": "SELECT coalesce(sum(households), 0) FROM buildings WHERE district_code = :d",
    "residents": "SELECT coalesce(sum(residents), 0) FROM buildings WHERE district_code = :d",
    "enforcement stations": "SELECT count(*) FROM facilities"
    " WHERE type = 'enforcement_station' AND district_code = :d",
}


def counts(session: Session, queries: Mapping[str, str], **params: Any) -> dict[str, int]:
    return {k: int(session.execute(text(q), params).scalar_one()) for k, q in queries.items()}
