"""The Wangge schema: SQLAlchemy 2 + GeoAlchemy2 models, storage SRID 4490."""

from gis.models.assignment import AssignmentInputs
from gis.models.audit import AUDIT_ACTIONS, AuditEntry
from gis.models.auth import ROLES, ApiToken
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
from gis.models.incidents import (
    CHANNELS,
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

__all__ = [
    "AUDIT_ACTIONS",
    "BOUNDARY_MODELS",
    "CANTEEN",
    "CHANNELS",
    "FACILITY_TYPES",
    "INCIDENTS_VIEW",
    "MATCHES",
    "PLACE_KINDS",
    "ROLES",
    "SRID",
    "STATION",
    "STATUSES",
    "ApiToken",
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
    "IncidentMove",
    "IncidentReport",
    "PartyBranch",
    "PlaceName",
    "PlaceNameEpoch",
    "Street",
    "VersionedBoundary",
]
