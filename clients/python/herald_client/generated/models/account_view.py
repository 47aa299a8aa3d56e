from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountView")


@_attrs_define
class AccountView:
    """
    Attributes:
        client_id (str):
        created_at (datetime.datetime): RFC 3339 UTC time
        id (str): A merchant account id, `acct_` followed by 26 characters
        name (str):
        client_secret (None | str | Unset): Present only in the answer to the create call: it is not stored and cannot
            be shown again.
        test_client_id (None | str | Unset): The first test key's client id (create call only): it sees only the
            account's test objects.
        test_client_secret (None | str | Unset): The first test key's secret, shown only in the answer to the create
            call.
    """

    client_id: str
    created_at: datetime.datetime
    id: str
    name: str
    client_secret: None | str | Unset = UNSET
    test_client_id: None | str | Unset = UNSET
    test_client_secret: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        created_at = self.created_at.isoformat()

        id = self.id

        name = self.name

        client_secret: None | str | Unset
        if isinstance(self.client_secret, Unset):
            client_secret = UNSET
        else:
            client_secret = self.client_secret

        test_client_id: None | str | Unset
        if isinstance(self.test_client_id, Unset):
            test_client_id = UNSET
        else:
            test_client_id = self.test_client_id

        test_client_secret: None | str | Unset
        if isinstance(self.test_client_secret, Unset):
            test_client_secret = UNSET
        else:
            test_client_secret = self.test_client_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "created_at": created_at,
                "id": id,
                "name": name,
            }
        )
        if client_secret is not UNSET:
            field_dict["client_secret"] = client_secret
        if test_client_id is not UNSET:
            field_dict["test_client_id"] = test_client_id
        if test_client_secret is not UNSET:
            field_dict["test_client_secret"] = test_client_secret

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        name = d.pop("name")

        def _parse_client_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_secret = _parse_client_secret(d.pop("client_secret", UNSET))

        def _parse_test_client_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        test_client_id = _parse_test_client_id(d.pop("test_client_id", UNSET))

        def _parse_test_client_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        test_client_secret = _parse_test_client_secret(d.pop("test_client_secret", UNSET))

        account_view = cls(
            client_id=client_id,
            created_at=created_at,
            id=id,
            name=name,
            client_secret=client_secret,
            test_client_id=test_client_id,
            test_client_secret=test_client_secret,
        )

        account_view.additional_properties = d
        return account_view

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
