"""The event as producers publish it and consumers receive it, and its JSON form on the wire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import InvalidInput
from shared.events.tables import MAX_SERVICE_NAME_LENGTH, MAX_TYPE_LENGTH


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    type: str
    payload: dict[str, Any]
    occurred_at: datetime
    producer: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "payload": self.payload,
            "occurredAt": self.occurred_at.isoformat(),
            "producer": self.producer,
        }

    @classmethod
    def from_wire(cls, data: Any) -> "Event":
        """Parses one event of a delivered batch; raises `InvalidInput` saying what is wrong."""
        if not isinstance(data, dict):
            raise InvalidInput("each event must be a JSON object")
        try:
            event_id = uuid.UUID(str(data["id"]))
        except (KeyError, ValueError):
            raise InvalidInput("event id must be a UUID", field="id") from None
        type_ = data.get("type")
        if not isinstance(type_, str) or not type_ or len(type_) > MAX_TYPE_LENGTH:
            raise InvalidInput("event type must be a non-empty string", field="type", eventId=str(event_id))
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise InvalidInput("event payload must be a JSON object", field="payload", eventId=str(event_id))
        try:
            occurred_at = datetime.fromisoformat(str(data["occurredAt"]))
        except (KeyError, ValueError):
            raise InvalidInput("occurredAt must be an ISO 8601 time", field="occurredAt", eventId=str(event_id)) from None
        if occurred_at.tzinfo is None:  # times are UTC everywhere; a naive one is a producer bug
            raise InvalidInput("occurredAt must carry a UTC offset", field="occurredAt", eventId=str(event_id))
        producer = data.get("producer")
        if not isinstance(producer, str) or not producer or len(producer) > MAX_SERVICE_NAME_LENGTH:
            raise InvalidInput("event producer must be a service name", field="producer", eventId=str(event_id))
        return cls(id=event_id, type=type_, payload=payload, occurred_at=occurred_at, producer=producer)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a dispatcher holds the lease of."""

    event: Event
    subscriber: str
    attempts: int
    leased_until: datetime
