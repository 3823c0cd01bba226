"""What a validation finds (校验报告): defects, the report, and the units checked against.

Kept apart from the checks so that callers (import, edits, the demo) can build and read
reports without the geometry machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Objects = NDArray[np.object_]


@dataclass(frozen=True)
class Defect:
    """One broken rule, with where it is and, for areas, how big it is."""

    kind: str
    severity: str  # "error" or "warning"
    codes: tuple[str, ...]
    message: str
    lon: float | None = None
    lat: float | None = None
    area_m2: float | None = None
    rows: tuple[int, ...] = ()  # 1-based feature numbers in the file, when known

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["codes"] = list(self.codes)
        data["rows"] = list(self.rows)
        return data


@dataclass
class ValidationReport:
    level: str
    count: int
    defects: list[Defect] = field(default_factory=list)

    @property
    def errors(self) -> list[Defect]:
        return [d for d in self.defects if d.severity == "error"]

    @property
    def warnings(self) -> list[Defect]:
        return [d for d in self.defects if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def kinds(self) -> set[str]:
        return {d.kind for d in self.errors}

    def extend(self, defects: Iterable[Defect]) -> None:
        self.defects.extend(defects)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "count": self.count,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "defects": [d.as_dict() for d in self.defects],
        }


@dataclass(frozen=True)
class Units:
    """Codes and geometries (CGCS2000 lon/lat) of units that are not being validated."""

    codes: Objects
    geoms: Objects

    @classmethod
    def of(cls, codes: Sequence[str] | Objects, geoms: Sequence[Any] | Objects) -> Units:
        return cls(np.asarray(codes, dtype=object), np.asarray(geoms, dtype=object))

    @classmethod
    def empty(cls) -> Units:
        return cls.of([], [])

    def __len__(self) -> int:
        return len(self.codes)
