from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AvailableEventType")


@_attrs_define
class AvailableEventType:
    """What a merchant sees of one catalog entry (PayPal's "List available events").

    Attributes:
        description (str):
        name (str): An event type, such as `charge.dispute.closed` or `PAYMENT.CAPTURE.COMPLETED`
        resource_versions (list[str]):
        status (str):
    """

    description: str
    name: str
    resource_versions: list[str]
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        name = self.name

        resource_versions = self.resource_versions

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "name": name,
                "resource_versions": resource_versions,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        description = d.pop("description")

        name = d.pop("name")

        resource_versions = cast(list[str], d.pop("resource_versions"))

        status = d.pop("status")

        available_event_type = cls(
            description=description,
            name=name,
            resource_versions=resource_versions,
            status=status,
        )

        available_event_type.additional_properties = d
        return available_event_type

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
