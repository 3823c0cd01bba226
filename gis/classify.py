"""Community classification (社区分类): A, B, C or D from a community's attributes.

The rules (docs/rules.md, "Community classes"), thresholds from
``get_settings().classes``:

- **D** — township (乡镇): ``area_type == "township"``.
- **C** — urban-rural fringe (城乡结合部): ``area_type == "fringe"`` with what marks the
  fringe: resettlement housing, many migrants (share ≥ ``c_min_migrant_share``) or
  incomplete facilities. A fringe community with none of these is judged like the core.
- **A** — core with residents of commercial housing ≥ ``a_min_commercial_share``, fewer
  than ``a_max_old_compound_residents`` in old compounds, mature property management
  and complete facilities.
- **B** — core, old buildings: ≥ ``b_min_residents`` residents, ≥
  ``b_min_old_compound_residents`` of them in old compounds, property management
  short of mature, and many elderly (share ≥ ``b_min_elderly_share``).
- A community meeting no rule in full is left unclassified (``None``): the rules do not
  say where it belongs, so a planner decides; ``wangge classify`` lists it for review.

Subsidies per class a year are settings too (``subsidy_a`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from gis.models import Community
from gis.settings import ClassThresholds, get_settings
from gis.validity import boundary_valid_clause

CLASSES = ("A", "B", "C", "D")
UNCLASSIFIED = "unclassified"
ATTRIBUTES = (
    "area_type",
    "residents",
    "commercial_housing_residents",
    "old_compound_residents",
    "resettlement_residents",
    "elderly_residents",
    "migrant_residents",
    "property_management",
    "facilities_complete",
)


@dataclass(frozen=True)
class CommunityAttributes:
    """What the rules look at; build one from a mapping or any object with these names."""

    area_type: str
    residents: int
    commercial_housing_residents: int
    old_compound_residents: int
    resettlement_residents: int
    elderly_residents: int
    migrant_residents: int
    property_management: str
    facilities_complete: bool

    @classmethod
    def of(cls, source: Mapping[str, Any] | Any) -> CommunityAttributes:
        if isinstance(source, CommunityAttributes):
            return source
        get = source.__getitem__ if isinstance(source, Mapping) else source.__getattribute__
        return cls(**{name: get(name) for name in ATTRIBUTES})


def _share(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def a_conditions(c: CommunityAttributes, t: ClassThresholds) -> tuple[bool, ...]:
    return (
        _share(c.commercial_housing_residents, c.residents) >= t.a_min_commercial_share,
        c.old_compound_residents < t.a_max_old_compound_residents,
        c.property_management == "mature",
        c.facilities_complete,
    )


def b_conditions(c: CommunityAttributes, t: ClassThresholds) -> tuple[bool, ...]:
    return (
        c.residents >= t.b_min_residents,
        c.old_compound_residents >= t.b_min_old_compound_residents,
        c.property_management != "mature",
        _share(c.elderly_residents, c.residents) >= t.b_min_elderly_share,
    )


def is_fringe_like(c: CommunityAttributes, t: ClassThresholds) -> bool:
    return (
        c.resettlement_residents > 0
        or _share(c.migrant_residents, c.residents) >= t.c_min_migrant_share
        or not c.facilities_complete
    )


def classify(
    attrs: Mapping[str, Any] | Any, thresholds: ClassThresholds | None = None
) -> str | None:
    """The class, "A" | "B" | "C" | "D", of one community; None when no rule fits in full."""
    t = thresholds or get_settings().classes
    c = CommunityAttributes.of(attrs)
    if c.area_type == "township":
        return "D"
    if c.area_type == "fringe" and is_fringe_like(c, t):
        return "C"
    if all(a_conditions(c, t)):
        return "A"
    if all(b_conditions(c, t)):
        return "B"
    return None


def subsidy(community_class: str | None, thresholds: ClassThresholds | None = None) -> int:
    """Yearly subsidy in CNY for one community of the class (0 while unclassified)."""
    t = thresholds or get_settings().classes
    amounts = {"A": t.subsidy_a, "B": t.subsidy_b, "C": t.subsidy_c, "D": t.subsidy_d}
    return amounts.get(community_class or "", 0)


@dataclass(frozen=True)
class ClassRow:
    community_class: str
    communities: int
    subsidy_each: int
    subtotal: int


@dataclass(frozen=True)
class ClassTable:
    rows: tuple[ClassRow, ...]

    @property
    def communities(self) -> int:
        return sum(r.communities for r in self.rows)

    @property
    def total_budget(self) -> int:
        return sum(r.subtotal for r in self.rows)


def budget(counts: Mapping[str, int], thresholds: ClassThresholds | None = None) -> ClassTable:
    """Subsidy table for the given number of communities per class."""
    rows = []
    for k in CLASSES:
        n = int(counts.get(k, 0))
        each = subsidy(k, thresholds)
        rows.append(ClassRow(k, n, each, n * each))
    if counts.get(UNCLASSIFIED):
        rows.append(ClassRow(UNCLASSIFIED, int(counts[UNCLASSIFIED]), 0, 0))
    return ClassTable(tuple(rows))


def recompute_classes(
    session: Session, thresholds: ClassThresholds | None = None
) -> dict[str, int]:
    """Run the rules over every current community and store the result; counts per class."""
    cols = [getattr(Community, name) for name in ATTRIBUTES]
    rows = session.execute(
        select(Community.id, Community.community_class, *cols).where(
            boundary_valid_clause(Community)
        )
    ).all()
    counts = dict.fromkeys(CLASSES, 0)
    changes = []
    for row in rows:
        k = classify(row._mapping, thresholds)
        key = k or UNCLASSIFIED
        counts[key] = counts.get(key, 0) + 1
        if row.community_class != k:
            changes.append({"row_id": row.id, "k": k})
    if changes:
        session.connection().execute(
            update(Community.__table__)  # type: ignore[arg-type]
            .where(Community.__table__.c.id == bindparam("row_id"))
            .values({"class": bindparam("k")}),
            changes,
        )
    return counts


def stored_counts(session: Session) -> dict[str, int]:
    """Current communities per stored class; those without one under ``unclassified``."""
    rows = session.execute(
        select(Community.community_class, func.count())
        .where(boundary_valid_clause(Community))
        .group_by(Community.community_class)
    ).all()
    counts = dict.fromkeys(CLASSES, 0)
    counts.update({str(k or UNCLASSIFIED): int(n) for k, n in rows})
    return counts
