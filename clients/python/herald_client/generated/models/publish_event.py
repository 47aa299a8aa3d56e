from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.publish_event_resource import PublishEventResource


T = TypeVar("T", bound="PublishEvent")


@_attrs_define
class PublishEvent:
    """
    Attributes:
        account_id (str):
        event_type (str):
        resource (PublishEventResource): The resource, any JSON object; delivered byte for byte as given.
        livemode (bool | None | Unset): `false` publishes in test mode: only the account's test webhooks receive the
            event. Default: True.
        resource_type (None | str | Unset):
        resource_version (None | str | Unset):
        summary (None | str | Unset):
    """

    account_id: str
    event_type: str
    resource: PublishEventResource
    livemode: bool | None | Unset = True
    resource_type: None | str | Unset = UNSET
    resource_version: None | str | Unset = UNSET
    summary: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        account_id = self.account_id

        event_type = self.event_type

        resource = self.resource.to_dict()

        livemode: bool | None | Unset
        if isinstance(self.livemode, Unset):
            livemode = UNSET
        else:
            livemode = self.livemode

        resource_type: None | str | Unset
        if isinstance(self.resource_type, Unset):
            resource_type = UNSET
        else:
            resource_type = self.resource_type

        resource_version: None | str | Unset
        if isinstance(self.resource_version, Unset):
            resource_version = UNSET
        else:
            resource_version = self.resource_version

        summary: None | str | Unset
        if isinstance(self.summary, Unset):
            summary = UNSET
        else:
            summary = self.summary

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "account_id": account_id,
                "event_type": event_type,
                "resource": resource,
            }
        )
        if livemode is not UNSET:
            field_dict["livemode"] = livemode
        if resource_type is not UNSET:
            field_dict["resource_type"] = resource_type
        if resource_version is not UNSET:
            field_dict["resource_version"] = resource_version
        if summary is not UNSET:
            field_dict["summary"] = summary

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.publish_event_resource import PublishEventResource

        d = dict(src_dict)
        account_id = d.pop("account_id")

        event_type = d.pop("event_type")

        resource = PublishEventResource.from_dict(d.pop("resource"))

        def _parse_livemode(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        livemode = _parse_livemode(d.pop("livemode", UNSET))

        def _parse_resource_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        resource_type = _parse_resource_type(d.pop("resource_type", UNSET))

        def _parse_resource_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        resource_version = _parse_resource_version(d.pop("resource_version", UNSET))

        def _parse_summary(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        summary = _parse_summary(d.pop("summary", UNSET))

        publish_event = cls(
            account_id=account_id,
            event_type=event_type,
            resource=resource,
            livemode=livemode,
            resource_type=resource_type,
            resource_version=resource_version,
            summary=summary,
        )

        return publish_event
