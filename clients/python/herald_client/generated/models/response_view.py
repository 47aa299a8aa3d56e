from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.response_view_headers import ResponseViewHeaders


T = TypeVar("T", bound="ResponseView")


@_attrs_define
class ResponseView:
    """
    Attributes:
        body (str):
        headers (ResponseViewHeaders):
        status (int):
        truncated (bool):
    """

    body: str
    headers: ResponseViewHeaders
    status: int
    truncated: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        headers = self.headers.to_dict()

        status = self.status

        truncated = self.truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "headers": headers,
                "status": status,
                "truncated": truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.response_view_headers import ResponseViewHeaders

        d = dict(src_dict)
        body = d.pop("body")

        headers = ResponseViewHeaders.from_dict(d.pop("headers"))

        status = d.pop("status")

        truncated = d.pop("truncated")

        response_view = cls(
            body=body,
            headers=headers,
            status=status,
            truncated=truncated,
        )

        response_view.additional_properties = d
        return response_view

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
