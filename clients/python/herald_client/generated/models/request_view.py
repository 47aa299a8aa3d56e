from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.request_view_headers import RequestViewHeaders


T = TypeVar("T", bound="RequestView")


@_attrs_define
class RequestView:
    """
    Attributes:
        body (str):
        headers (RequestViewHeaders):
        url (str):
    """

    body: str
    headers: RequestViewHeaders
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        headers = self.headers.to_dict()

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "headers": headers,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.request_view_headers import RequestViewHeaders

        d = dict(src_dict)
        body = d.pop("body")

        headers = RequestViewHeaders.from_dict(d.pop("headers"))

        url = d.pop("url")

        request_view = cls(
            body=body,
            headers=headers,
            url=url,
        )

        request_view.additional_properties = d
        return request_view

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
