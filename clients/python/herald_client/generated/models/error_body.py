from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.error_body_links_item import ErrorBodyLinksItem
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="ErrorBody")


@_attrs_define
class ErrorBody:
    """The error shape every failing call answers with (PayPal's).

    Attributes:
        debug_id (str): Quote this when reporting a problem; the server log has the same id.
        details (list[ErrorDetail]):
        links (list[ErrorBodyLinksItem]):
        message (str):
        name (str): A machine-readable name, such as `RESOURCE_NOT_FOUND` or `VALIDATION_ERROR`.
    """

    debug_id: str
    details: list[ErrorDetail]
    links: list[ErrorBodyLinksItem]
    message: str
    name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        debug_id = self.debug_id

        details = []
        for details_item_data in self.details:
            details_item = details_item_data.to_dict()
            details.append(details_item)

        links = []
        for links_item_data in self.links:
            links_item = links_item_data.to_dict()
            links.append(links_item)

        message = self.message

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "debug_id": debug_id,
                "details": details,
                "links": links,
                "message": message,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.error_body_links_item import ErrorBodyLinksItem
        from ..models.error_detail import ErrorDetail

        d = dict(src_dict)
        debug_id = d.pop("debug_id")

        details = []
        _details = d.pop("details")
        for details_item_data in _details:
            details_item = ErrorDetail.from_dict(details_item_data)

            details.append(details_item)

        links = []
        _links = d.pop("links")
        for links_item_data in _links:
            links_item = ErrorBodyLinksItem.from_dict(links_item_data)

            links.append(links_item)

        message = d.pop("message")

        name = d.pop("name")

        error_body = cls(
            debug_id=debug_id,
            details=details,
            links=links,
            message=message,
            name=name,
        )

        error_body.additional_properties = d
        return error_body

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
