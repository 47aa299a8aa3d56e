from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TlsBody")


@_attrs_define
class TlsBody:
    """Mutual TLS (PEM). `client_key_pem` is never shown back; a PATCH without it keeps it. With
    `ca_certificate_pem`, the receiver's certificate must chain to that CA (and to no other).

        Attributes:
            client_certificate_pem (str):
            ca_certificate_pem (None | str | Unset):
            client_key_pem (None | str | Unset):
    """

    client_certificate_pem: str
    ca_certificate_pem: None | str | Unset = UNSET
    client_key_pem: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        client_certificate_pem = self.client_certificate_pem

        ca_certificate_pem: None | str | Unset
        if isinstance(self.ca_certificate_pem, Unset):
            ca_certificate_pem = UNSET
        else:
            ca_certificate_pem = self.ca_certificate_pem

        client_key_pem: None | str | Unset
        if isinstance(self.client_key_pem, Unset):
            client_key_pem = UNSET
        else:
            client_key_pem = self.client_key_pem

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "client_certificate_pem": client_certificate_pem,
            }
        )
        if ca_certificate_pem is not UNSET:
            field_dict["ca_certificate_pem"] = ca_certificate_pem
        if client_key_pem is not UNSET:
            field_dict["client_key_pem"] = client_key_pem

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

        def _parse_client_key_pem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_key_pem = _parse_client_key_pem(d.pop("client_key_pem", UNSET))

        tls_body = cls(
            client_certificate_pem=client_certificate_pem,
            ca_certificate_pem=ca_certificate_pem,
            client_key_pem=client_key_pem,
        )

        return tls_body
