from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.publish_event import PublishEvent


T = TypeVar("T", bound="PublishBatch")


@_attrs_define
class PublishBatch:
    """
    Attributes:
        events (list[PublishEvent]):
    """

    events: list[PublishEvent]

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.publish_event import PublishEvent

        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = PublishEvent.from_dict(events_item_data)

            events.append(events_item)

        publish_batch = cls(
            events=events,
        )

        return publish_batch
