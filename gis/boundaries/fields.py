"""The attribute columns of each importable level and how file columns map onto them.

A column is found by its name, its Shapefile short name (10 characters at most), an alias,
or an explicit mapping (``code=GRID_ID``); names match case-insensitively. Values are
converted per type; every missing or unreadable value is a defect with its feature number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gis.boundaries.validate import Defect
from gis.errors import InvalidInput


@dataclass(frozen=True)
class Field:
    name: str  # canonical name: the model attribute and the GeoJSON/GPKG column
    short: str  # Shapefile column (dBase allows 10 characters)
    type: str = "str"  # str, int, float or bool
    required: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


CODE = Field("code", "code", required=True, aliases=("id", "adcode", "dm"))
NAME = Field("name", "name", required=True, aliases=("mc", "title"))


def _count(name: str, short: str) -> Field:
    return Field(name, short, "int", default=0)


HOUSEHOLDS = _count("households", "households")
RESIDENTS = _count("residents", "residents")
ELDERLY = _count("elderly_residents", "elderly")
PARENT_ALIASES = ("parent_code", "parent")

FIELDS: dict[str, tuple[Field, ...]] = {
    "district": (CODE, NAME),
    "street": (
        CODE,
        NAME,
        Field("district_code", "district", aliases=PARENT_ALIASES),
        Field("kind", "kind", default="street", choices=("street", "town")),
    ),
    "community": (
        CODE,
        NAME,
        Field("street_code", "street", aliases=PARENT_ALIASES),
        Field("area_type", "area_type", default="core", choices=("core", "fringe", "township")),
        HOUSEHOLDS,
        RESIDENTS,
        _count("commercial_housing_residents", "comm_res"),
        _count("old_compound_residents", "old_res"),
        _count("resettlement_residents", "resettle"),
        ELDERLY,
        _count("migrant_residents", "migrants"),
        Field(
            "property_management",
            "prop_mgmt",
            default="partial",
            choices=("mature", "partial", "little"),
        ),
        Field("facilities_complete", "facilities", "bool", default=False),
        Field("class", "class", default=None, choices=("A", "B", "C", "D")),
    ),
    "grid": (
        CODE,
        NAME,
        Field("community_code", "community", aliases=PARENT_ALIASES),
        Field("kind", "kind", default="comprehensive", choices=("comprehensive", "dedicated")),
        HOUSEHOLDS,
        RESIDENTS,
        Field("worker_name", "worker"),
    ),
    "compound": (
        CODE,
        NAME,
        Field("community_code", "community", required=True, aliases=PARENT_ALIASES),
        Field(
            "housing_type",
            "housing",
            default="commercial",
            choices=("commercial", "old", "resettlement", "mixed"),
        ),
        Field("property_managed", "prop_mgd", "bool", default=True),
        HOUSEHOLDS,
        RESIDENTS,
    ),
    "building": (
        CODE,
        Field("community_code", "community", required=True, aliases=PARENT_ALIASES),
        Field("compound_code", "compound"),
        HOUSEHOLDS,
        RESIDENTS,
        ELDERLY,
    ),
    "facility": (
        CODE,
        Field("type", "type", required=True),
        NAME,
        Field("district_code", "district"),
        Field("service_radius_m", "radius_m", "float", aliases=("radius",)),
        Field("staff", "staff", "int", default=0),
        Field("seats", "seats", "int", default=0),
        Field("hours", "hours", default="24h"),
        Field("active", "active", "bool", default=True),
    ),
}

PARENT_FIELD = {"street": "district_code", "community": "street_code", "grid": "community_code"}
_TRUE = {"1", "true", "t", "yes", "y", "是"}
_FALSE = {"0", "false", "f", "no", "n", "否"}


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["code=GRID_ID", "name=MC"]`` → ``{"code": "GRID_ID", "name": "MC"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(f"mapping {pair!r} must look like field=COLUMN", field="map")
        mapping[target.strip()] = source.strip()
    return mapping


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _convert(spec: Field, value: Any) -> Any:
    """One value to the field's type; raises ValueError with a reason when it cannot."""
    if spec.type == "int":
        number = float(value)
        if not number.is_integer() or number < 0:
            raise ValueError("a whole number ≥ 0 is required")
        return int(number)
    if spec.type == "float":
        result = float(value)
        if not math.isfinite(result):
            raise ValueError("a finite number is required")
        return result
    if spec.type == "bool":
        text = str(value).strip().lower()
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("true or false is required")
    if isinstance(value, float | np.floating) and float(value).is_integer():
        text = str(int(value))  # codes read as numbers
    else:
        text = str(value).strip()
    if spec.choices and text not in spec.choices:
        raise ValueError(f"one of {', '.join(spec.choices)} is required")
    return text


def map_attributes(
    level: str,
    columns: Mapping[str, NDArray[Any]],
    count: int,
    mapping: Mapping[str, str] | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[dict[str, NDArray[np.object_]], list[Defect]]:
    """The level's canonical columns from a file's columns, and every defect found on the way."""
    specs = FIELDS[level]
    known = {s.name for s in specs}
    mapping = dict(mapping or {})
    for target in mapping:
        if target not in known:
            raise InvalidInput(
                f"{target!r} is not a {level} field; fields are {', '.join(sorted(known))}",
                field="map",
            )
    by_lower = {name.lower(): name for name in columns}
    row_no = list(rows) if rows is not None else list(range(1, count + 1))
    out: dict[str, NDArray[np.object_]] = {}
    defects: list[Defect] = []
    for spec in specs:
        wanted = [mapping[spec.name]] if spec.name in mapping else [spec.name, spec.short]
        wanted += [] if spec.name in mapping else list(spec.aliases)
        source = next((by_lower[w.lower()] for w in wanted if w.lower() in by_lower), None)
        values = np.full(count, spec.default, dtype=object)
        if source is None:
            if spec.name in mapping:
                raise InvalidInput(
                    f"column {mapping[spec.name]!r} mapped to {spec.name} is not in the file",
                    field="map",
                )
            if spec.required:
                defects.append(
                    Defect(
                        "missing_column",
                        "error",
                        (),
                        f"the file has no {spec.name!r} column (nor {', '.join(wanted[1:])}); "
                        f"map one with --map {spec.name}=COLUMN",
                    )
                )
            out[spec.name] = values
            continue
        raw = columns[source]
        for i in range(count):
            value = raw[i]
            if _blank(value):
                if spec.required:
                    defects.append(
                        Defect(
                            "missing_value",
                            "error",
                            (),
                            f"feature {row_no[i]} has no {spec.name}",
                            rows=(row_no[i],),
                        )
                    )
                continue
            try:
                values[i] = _convert(spec, value)
            except (TypeError, ValueError) as exc:
                reason = str(exc) if "required" in str(exc) else f"a {spec.type} is required"
                defects.append(
                    Defect(
                        "bad_value",
                        "error",
                        (),
                        f"feature {row_no[i]}: {spec.name} = {value!r}: {reason}",
                        rows=(row_no[i],),
                    )
                )
        out[spec.name] = values
    return out, defects
