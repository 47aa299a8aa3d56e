from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TlsView")


@_attrs_define
class TlsView:
    """A webhook's TLS settings as shown: the certificates, not the key.

    Attributes:
        client_certificate_pem (str):
        ca_certificate_pem (None | str | Unset):
    """

    client_certificate_pem: str
    ca_certificate_pem: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_certificate_pem = self.client_certificate_pem

        ca_certificate_pem: None | str | Unset
        if isinstance(self.ca_certificate_pem, Unset):
            ca_certificate_pem = UNSET
        else:
            ca_certificate_pem = self.ca_certificate_pem

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_certificate_pem": client_certificate_pem,
            }
        )
        if ca_certificate_pem is not UNSET:
            field_dict["ca_certificate_pem"] = ca_certificate_pem

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        client_certificate_pem = d.pop("client_certificate_pem")

        def _parse_ca_certificate_pem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ca_certificate_pem = _parse_ca_certificate_pem(d.pop("ca_certificate_pem", UNSET))

        tls_view = cls(
            client_certificate_pem=client_certificate_pem,
            ca_certificate_pem=ca_certificate_pem,
        )

        tls_view.additional_properties = d
        return tls_view

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
