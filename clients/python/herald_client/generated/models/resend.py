from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Resend")


@_attrs_define
class Resend:
    """
    Attributes:
        webhook_ids (list[str] | None | Unset):
    """

    webhook_ids: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        webhook_ids: list[str] | None | Unset
        if isinstance(self.webhook_ids, Unset):
            webhook_ids = UNSET
        elif isinstance(self.webhook_ids, list):
            webhook_ids = self.webhook_ids

        else:
            webhook_ids = self.webhook_ids

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if webhook_ids is not UNSET:
            field_dict["webhook_ids"] = webhook_ids

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_webhook_ids(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                webhook_ids_type_0 = cast(list[str], data)

                return webhook_ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        webhook_ids = _parse_webhook_ids(d.pop("webhook_ids", UNSET))

        resend = cls(
            webhook_ids=webhook_ids,
        )

        return resend
