"""The fields of an incident on the way in (诉求受理): one table for every intake.

Each :class:`FieldRule` says what a field holds and what makes it wrong. The JSON
models (:class:`gis.incidents.records.IncidentIn` and ``ImportRecord``) take their
pydantic fields from it, and bulk intake (:mod:`gis.incidents.bulk_check`) its column
checks, so one record is judged alike whichever way it comes in. Checks that need the
database or the map (category known, crs known, the point) follow in both intakes,
in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic_core import PydanticUndefined

from gis.models import CHANNELS, STATUSES

Kind = Literal["text", "number", "integer", "time", "bool"]

MAX_EXTERNAL_ID = 64
MAX_CATEGORY_CODE = 32
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 300
MAX_REPORTER_NAME = 60
MAX_REPORTER_PHONE = 32


@dataclass(frozen=True)
class FieldRule:
    """One field: how bulk reads its text (``kind``), whether it must be there, its limits.

    ``required``: every intake refuses a record without it. ``key``: the record's key in
    bulk intake, required there and unique within a file (re-runs are matched by it).
    ``imported``: only records from other systems carry it (``ImportRecord``, bulk files),
    not the JSON API's new reports.
    """

    name: str
    kind: Kind = "text"
    required: bool = False
    key: bool = False
    default: Any = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    description: str | None = None
    imported: bool = False

    def field(self) -> Any:
        """The pydantic ``Field`` of this rule (its type is the model's annotation)."""
        limits: dict[str, Any] = {
            "min_length": self.min_length,
            "max_length": self.max_length,
            "ge": self.minimum,
            "le": self.maximum,
            "description": self.description,
        }
        if self.kind == "number":
            limits["allow_inf_nan"] = False
        default = PydanticUndefined if self.required else self.default
        return Field(default, **{k: v for k, v in limits.items() if v is not None})


FIELDS: tuple[FieldRule, ...] = (
    FieldRule(
        "external_id",
        key=True,
        min_length=1,
        max_length=MAX_EXTERNAL_ID,
        description="id in the hotline system",
    ),
    FieldRule("channel", required=True, choices=CHANNELS),
    FieldRule("category_code", required=True, min_length=1, max_length=MAX_CATEGORY_CODE),
    FieldRule("description", default="", max_length=MAX_DESCRIPTION),
    FieldRule("address", max_length=MAX_ADDRESS),
    FieldRule("lon", "number", required=True),
    FieldRule("lat", "number", required=True),
    FieldRule("crs", default="wgs84", description="wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>"),
    FieldRule("reporter_name", max_length=MAX_REPORTER_NAME),
    FieldRule("reporter_phone", max_length=MAX_REPORTER_PHONE),
    FieldRule("received_at", "time"),
    FieldRule("handled_directly", "bool", default=False, imported=True),
    FieldRule("status", default="received", choices=STATUSES, imported=True),
    FieldRule("closed_at", "time", imported=True),
    FieldRule("callback_at", "time", imported=True),
    FieldRule("rating", "integer", minimum=1, maximum=5, imported=True),
)
RULES = {rule.name: rule for rule in FIELDS}
