from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RollApiKey")


@_attrs_define
class RollApiKey:
    """
    Attributes:
        expire_previous_in_seconds (int | None | Unset): 0 to 604800; how long the secret before keeps working (and the
            key's access tokens). Default 0.
    """

    expire_previous_in_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        expire_previous_in_seconds: int | None | Unset
        if isinstance(self.expire_previous_in_seconds, Unset):
            expire_previous_in_seconds = UNSET
        else:
            expire_previous_in_seconds = self.expire_previous_in_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if expire_previous_in_seconds is not UNSET:
            field_dict["expire_previous_in_seconds"] = expire_previous_in_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_expire_previous_in_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expire_previous_in_seconds = _parse_expire_previous_in_seconds(d.pop("expire_previous_in_seconds", UNSET))

        roll_api_key = cls(
            expire_previous_in_seconds=expire_previous_in_seconds,
        )

        return roll_api_key
