"""A grid worker's patrol finding (巡查上报) taken in: the one intake
(:func:`gis.incidents.intake.create_incident`, with its replay rule), bound to the worker's
channel and grids."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.field.grids import check_in_grids
from gis.incidents.intake import create_incident
from gis.incidents.records import IncidentIn
from gis.models import Incident

PATROL = "patrol"


def take_patrol_report(
    session: Session, data: IncidentIn, worker: str, grids: Sequence[str]
) -> tuple[Incident, bool]:
    """Store the worker's report, or return the one stored under its ``external_id``.

    A grid worker reports what it finds on patrol: the channel is ``patrol`` (422 naming
    ``channel`` otherwise), and the point must lie in one of its grids after conversion
    (a GCJ-02 point from WeChat lands where it really is): 403 naming ``location``
    otherwise. Raising rolls the caller's transaction back, so nothing is stored.
    """
    if data.channel != PATROL:
        raise InvalidInput(
            f"a grid worker reports on channel {PATROL} (巡查上报), not {data.channel}",
            field="channel",
        )
    incident, created = create_incident(session, data, worker)
    check_in_grids(incident.grid_code, grids, "the reported location", "location")
    return incident, created
