"""Who may add and who may see an incident's photos: the one place for each rule.

Photos may show people's homes, so they are for the staff who handle the case: dispatchers
and above, a responsible unit's staff on their own unit's cases, and a grid worker (网格员)
on the cases of its own grids (a patrol finding's photo, a verification's evidence).
Viewers and anonymous readers see them only where the setting ``WANGGE_MEDIA_PUBLIC``
allows (anonymous readers also need ``WANGGE_ANONYMOUS_READ``); tiles, features and maps
never carry them. A district-scoped token adds photos only in its district (the caller
applies the rule of every write, :func:`gis.errors.check_scope`).
"""

from __future__ import annotations

from gis.incidents.workflow import Actor
from gis.models import Incident
from gis.privacy import role_at_least
from gis.settings import Settings


def may_add_photo(actor: Actor, incident: Incident) -> bool:
    """Whether ``actor`` may add a photo to ``incident``."""
    if actor.role == "unit":
        return incident.unit_code is not None and incident.unit_code == actor.unit_code
    if actor.role == "grid_worker":
        return incident.grid_code is not None and incident.grid_code in actor.grid_codes
    return role_at_least(actor.role, "dispatcher")


def may_see_photos(
    actor: Actor,
    incident_unit: str | None,
    settings: Settings,
    incident_grid: str | None = None,
) -> bool:
    """Whether ``actor`` may see the photos of an incident held by ``incident_unit`` in
    ``incident_grid``."""
    if actor.role == "anonymous" and not settings.anonymous_read:
        return False
    if settings.media_public:
        return True
    if actor.role == "unit":
        return incident_unit is not None and incident_unit == actor.unit_code
    if actor.role == "grid_worker":
        return incident_grid is not None and incident_grid in actor.grid_codes
    return role_at_least(actor.role, "dispatcher")
