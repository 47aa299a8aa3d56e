from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_type_ref import EventTypeRef


T = TypeVar("T", bound="CreateListener")


@_attrs_define
class CreateListener:
    """
    Attributes:
        event_types (list[EventTypeRef] | None | Unset): The events to stream; default all (`[{"name": "*"}]`).
        format_ (None | str | Unset): `standard` (default) or `stripe`: how each event is laid out and signed.
    """

    event_types: list[EventTypeRef] | None | Unset = UNSET
    format_: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        event_types: list[dict[str, Any]] | None | Unset
        if isinstance(self.event_types, Unset):
            event_types = UNSET
        elif isinstance(self.event_types, list):
            event_types = []
            for event_types_type_0_item_data in self.event_types:
                event_types_type_0_item = event_types_type_0_item_data.to_dict()
                event_types.append(event_types_type_0_item)

        else:
            event_types = self.event_types

        format_: None | str | Unset
        if isinstance(self.format_, Unset):
            format_ = UNSET
        else:
            format_ = self.format_

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if event_types is not UNSET:
            field_dict["event_types"] = event_types
        if format_ is not UNSET:
            field_dict["format"] = format_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.event_type_ref import EventTypeRef

        d = dict(src_dict)

        def _parse_event_types(data: object) -> list[EventTypeRef] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                event_types_type_0 = []
                _event_types_type_0 = data
                for event_types_type_0_item_data in _event_types_type_0:
                    event_types_type_0_item = EventTypeRef.from_dict(event_types_type_0_item_data)

                    event_types_type_0.append(event_types_type_0_item)

                return event_types_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[EventTypeRef] | None | Unset, data)

        event_types = _parse_event_types(d.pop("event_types", UNSET))

        def _parse_format_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        format_ = _parse_format_(d.pop("format", UNSET))

        create_listener = cls(
            event_types=event_types,
            format_=format_,
        )

        return create_listener
