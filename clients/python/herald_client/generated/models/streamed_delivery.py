from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.streamed_delivery_headers import StreamedDeliveryHeaders


T = TypeVar("T", bound="StreamedDelivery")


@_attrs_define
class StreamedDelivery:
    """One streamed event: what a webhook of the listener's format would receive.

    Attributes:
        body (str): The request body, exactly.
        event_id (str):
        event_type (str):
        headers (StreamedDeliveryHeaders): The request headers, signatures included.
    """

    body: str
    event_id: str
    event_type: str
    headers: StreamedDeliveryHeaders
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        event_id = self.event_id

        event_type = self.event_type

        headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "event_id": event_id,
                "event_type": event_type,
                "headers": headers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.streamed_delivery_headers import StreamedDeliveryHeaders

        d = dict(src_dict)
        body = d.pop("body")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        headers = StreamedDeliveryHeaders.from_dict(d.pop("headers"))

        streamed_delivery = cls(
            body=body,
            event_id=event_id,
            event_type=event_type,
            headers=headers,
        )

        streamed_delivery.additional_properties = d
        return streamed_delivery

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
