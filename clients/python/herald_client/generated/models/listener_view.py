from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ListenerView")


@_attrs_define
class ListenerView:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339 UTC time
        event_types (list[str]):
        format_ (str):
        id (str): A listener id, `lsn_` followed by 26 characters
        secret (str): The `whsec_` secret the streamed events are signed with.
        stream_url (str): Where to read the events (`text/event-stream`).
    """

    created_at: datetime.datetime
    event_types: list[str]
    format_: str
    id: str
    secret: str
    stream_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        event_types = self.event_types

        format_ = self.format_

        id = self.id

        secret = self.secret

        stream_url = self.stream_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "event_types": event_types,
                "format": format_,
                "id": id,
                "secret": secret,
                "stream_url": stream_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        event_types = cast(list[str], d.pop("event_types"))

        format_ = d.pop("format")

        id = d.pop("id")

        secret = d.pop("secret")

        stream_url = d.pop("stream_url")

        listener_view = cls(
            created_at=created_at,
            event_types=event_types,
            format_=format_,
            id=id,
            secret=secret,
            stream_url=stream_url,
        )

        listener_view.additional_properties = d
        return listener_view

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
