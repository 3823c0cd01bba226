"""Live incident events (实时事件): the event log read as a stream, and the hub that tells
each process's followers when the log has moved on."""

from gis.events.hub import EventHub, Progress
from gis.events.log import CHANNEL, EventFilter, StreamEvent, read_events, stream_filter

__all__ = [
    "CHANNEL",
    "EventFilter",
    "EventHub",
    "Progress",
    "StreamEvent",
    "read_events",
    "stream_filter",
]
