from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="VerificationKey")


@_attrs_define
class VerificationKey:
    """What a merchant verifies deliveries with; one of the three, by signing algorithm.

    Attributes:
        cert_url (None | str | Unset): `rsa-sha256`: where the installation's certificate is served (also sent as
            `PAYPAL-CERT-URL`).
        public_key (None | str | Unset): `ed25519`: the `whpk_` public key.
        secret (None | str | Unset): `hmac-sha256`: the shared `whsec_` secret.
    """

    cert_url: None | str | Unset = UNSET
    public_key: None | str | Unset = UNSET
    secret: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cert_url: None | str | Unset
        if isinstance(self.cert_url, Unset):
            cert_url = UNSET
        else:
            cert_url = self.cert_url

        public_key: None | str | Unset
        if isinstance(self.public_key, Unset):
            public_key = UNSET
        else:
            public_key = self.public_key

        secret: None | str | Unset
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if cert_url is not UNSET:
            field_dict["cert_url"] = cert_url
        if public_key is not UNSET:
            field_dict["public_key"] = public_key
        if secret is not UNSET:
            field_dict["secret"] = secret

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_cert_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cert_url = _parse_cert_url(d.pop("cert_url", UNSET))

        def _parse_public_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        public_key = _parse_public_key(d.pop("public_key", UNSET))

        def _parse_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

        verification_key = cls(
            cert_url=cert_url,
            public_key=public_key,
            secret=secret,
        )

        verification_key.additional_properties = d
        return verification_key

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
