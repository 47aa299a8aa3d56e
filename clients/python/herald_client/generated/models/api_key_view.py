from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_scope import KeyScope
from ..models.mode import Mode
from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKeyView")


@_attrs_define
class ApiKeyView:
    """
    Attributes:
        client_id (str):
        created_at (datetime.datetime): RFC 3339 UTC time
        id (str): An API key id, `key_` followed by 26 characters
        mode (Mode): Which of an account's two environments: live data, or test data that reaches only test webhooks.
        name (str):
        scope (KeyScope): What a key may do.
        client_secret (None | str | Unset): Present only in the answers to create and roll: it is not stored and cannot
            be shown again.
        last_used_at (datetime.datetime | None | Unset):
        previous_expires_at (datetime.datetime | None | Unset):
    """

    client_id: str
    created_at: datetime.datetime
    id: str
    mode: Mode
    name: str
    scope: KeyScope
    client_secret: None | str | Unset = UNSET
    last_used_at: datetime.datetime | None | Unset = UNSET
    previous_expires_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        created_at = self.created_at.isoformat()

        id = self.id

        mode = self.mode.value

        name = self.name

        scope = self.scope.value

        client_secret: None | str | Unset
        if isinstance(self.client_secret, Unset):
            client_secret = UNSET
        else:
            client_secret = self.client_secret

        last_used_at: None | str | Unset
        if isinstance(self.last_used_at, Unset):
            last_used_at = UNSET
        elif isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        previous_expires_at: None | str | Unset
        if isinstance(self.previous_expires_at, Unset):
            previous_expires_at = UNSET
        elif isinstance(self.previous_expires_at, datetime.datetime):
            previous_expires_at = self.previous_expires_at.isoformat()
        else:
            previous_expires_at = self.previous_expires_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "created_at": created_at,
                "id": id,
                "mode": mode,
                "name": name,
                "scope": scope,
            }
        )
        if client_secret is not UNSET:
            field_dict["client_secret"] = client_secret
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if previous_expires_at is not UNSET:
            field_dict["previous_expires_at"] = previous_expires_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        mode = Mode(d.pop("mode"))

        name = d.pop("name")

        scope = KeyScope(d.pop("scope"))

        def _parse_client_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_secret = _parse_client_secret(d.pop("client_secret", UNSET))

        def _parse_last_used_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at", UNSET))

        def _parse_previous_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return previous_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        previous_expires_at = _parse_previous_expires_at(d.pop("previous_expires_at", UNSET))

        api_key_view = cls(
            client_id=client_id,
            created_at=created_at,
            id=id,
            mode=mode,
            name=name,
            scope=scope,
            client_secret=client_secret,
            last_used_at=last_used_at,
            previous_expires_at=previous_expires_at,
        )

        api_key_view.additional_properties = d
        return api_key_view

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
