"""The Wangge schema: SQLAlchemy 2 + GeoAlchemy2 models, storage SRID 4490."""

from gis.models.assignment import AssignmentInputs
from gis.models.audit import AUDIT_ACTIONS, AuditEntry
from gis.models.auth import BOUND_ROLES, ROLES, ApiToken, ApiTokenGrid
from gis.models.base import SRID, Base
from gis.models.boundaries import (
    BOUNDARY_MODELS,
    BoundaryVersion,
    Community,
    District,
    Grid,
    Street,
    VersionedBoundary,
)
from gis.models.figures import FIGURE_KINDS, incident_day_figures, incident_day_grids
from gis.models.incidents import (
    ACCEPT_CLASSES,
    CHANNELS,
    EVENT_KINDS,
    INCIDENTS_VIEW,
    MATCHES,
    STATUSES,
    Incident,
    IncidentAssignment,
    IncidentCategory,
    IncidentEvent,
    IncidentMove,
    IncidentReport,
)
from gis.models.media import MEDIA_TYPES, IncidentMedia
from gis.models.place_names import PLACE_KINDS, PlaceName, PlaceNameEpoch
from gis.models.places import (
    CANTEEN,
    FACILITY_TYPES,
    STATION,
    Building,
    Compound,
    Facility,
    PartyBranch,
)
from gis.models.units import REQUEST_KINDS, UNIT_KINDS, IncidentRequest, Unit

__all__ = [
    "ACCEPT_CLASSES",
    "AUDIT_ACTIONS",
    "BOUNDARY_MODELS",
    "BOUND_ROLES",
    "CANTEEN",
    "CHANNELS",
    "EVENT_KINDS",
    "FACILITY_TYPES",
    "FIGURE_KINDS",
    "INCIDENTS_VIEW",
    "MATCHES",
    "MEDIA_TYPES",
    "PLACE_KINDS",
    "REQUEST_KINDS",
    "ROLES",
    "SRID",
    "STATION",
    "STATUSES",
    "UNIT_KINDS",
    "ApiToken",
    "ApiTokenGrid",
    "AssignmentInputs",
    "AuditEntry",
    "Base",
    "BoundaryVersion",
    "Building",
    "Community",
    "Compound",
    "District",
    "Facility",
    "Grid",
    "Incident",
    "IncidentAssignment",
    "IncidentCategory",
    "IncidentEvent",
    "IncidentMedia",
    "IncidentMove",
    "IncidentReport",
    "IncidentRequest",
    "PartyBranch",
    "PlaceName",
    "PlaceNameEpoch",
    "Street",
    "Unit",
    "VersionedBoundary",
    "incident_day_figures",
    "incident_day_grids",
]
