"""Incidents (诉求): intake, the 12345 workflow, bulk intake, re-assignment, reports."""

from gis.incidents.bulk import IngestResult, ingest, ingest_bytes
from gis.incidents.bulk_read import BadRow
from gis.incidents.reassign import reassign_open

__all__ = ["BadRow", "IngestResult", "ingest", "ingest_bytes", "reassign_open"]
