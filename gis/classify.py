"""Community classification (社区分类): A, B, C or D from a community's attributes.

The rules (design.md), thresholds from ``get_settings().classes``:

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
- A core community meeting neither A nor B in full gets the class whose conditions it
  meets more of; a tie goes to B, the class with more support.

Subsidies per class a year are settings too (``subsidy_a`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gis.models import Community
from gis.settings import ClassThresholds, get_settings

CLASSES = ("A", "B", "C", "D")
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


def classify(attrs: Mapping[str, Any] | Any, thresholds: ClassThresholds | None = None) -> str:
    """The class, "A" | "B" | "C" | "D", of one community."""
    t = thresholds or get_settings().classes
    c = CommunityAttributes.of(attrs)
    if c.area_type == "township":
        return "D"
    if c.area_type == "fringe" and is_fringe_like(c, t):
        return "C"
    a, b = a_conditions(c, t), b_conditions(c, t)
    if all(a):
        return "A"
    if all(b):
        return "B"
    return "A" if sum(a) > sum(b) else "B"


def subsidy(community_class: str, thresholds: ClassThresholds | None = None) -> int:
    """Yearly subsidy in CNY for one community of the class."""
    t = thresholds or get_settings().classes
    amounts = {"A": t.subsidy_a, "B": t.subsidy_b, "C": t.subsidy_c, "D": t.subsidy_d}
    return amounts[community_class]


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
    return ClassTable(tuple(rows))


def recompute_classes(
    session: Session, thresholds: ClassThresholds | None = None
) -> dict[str, int]:
    """Run the rules over every current community and store the result; counts per class."""
    cols = [getattr(Community, name) for name in ATTRIBUTES]
    rows = session.execute(
        select(Community.id, Community.community_class, *cols).where(Community.valid_to.is_(None))
    ).all()
    counts = dict.fromkeys(CLASSES, 0)
    changes = []
    for row in rows:
        k = classify(row._mapping, thresholds)
        counts[k] += 1
        if row.community_class != k:
            changes.append({"row_id": row.id, "k": k})
    if changes:
        session.connection().execute(
            update(Community.__table__)  # type: ignore[arg-type]
            .where(Community.__table__.c.id == _bind("row_id"))
            .values({"class": _bind("k")}),
            changes,
        )
    return counts


def stored_counts(session: Session) -> dict[str, int]:
    """Current communities per stored class (unclassified ones are not counted)."""
    from sqlalchemy import func

    rows = session.execute(
        select(Community.community_class, func.count())
        .where(Community.valid_to.is_(None), Community.community_class.is_not(None))
        .group_by(Community.community_class)
    ).all()
    counts = dict.fromkeys(CLASSES, 0)
    counts.update({str(k): int(n) for k, n in rows})
    return counts


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)
