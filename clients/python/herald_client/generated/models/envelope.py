from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.envelope_resource import EnvelopeResource
    from ..models.link import Link
    from ..models.request_ref import RequestRef


T = TypeVar("T", bound="Envelope")


@_attrs_define
class Envelope:
    """The event object, as `GET …/webhooks-events/{id}` shows it and as a `standard` delivery sends it.

    Attributes:
        create_time (datetime.datetime): RFC 3339 UTC time
        event_type (str):
        event_version (str):
        id (str): An event id, `evt_` followed by 26 characters; also the `webhook-id` header of its deliveries
        links (list[Link]):
        livemode (bool): False for an event published in test mode, which only test webhooks receive.
        resource (EnvelopeResource): The resource exactly as published.
        summary (str):
        request (None | RequestRef | Unset):
        resource_type (None | str | Unset):
        resource_version (None | str | Unset):
        simulated (bool | Unset): Present (and true) only on events made by simulate-event.
    """

    create_time: datetime.datetime
    event_type: str
    event_version: str
    id: str
    links: list[Link]
    livemode: bool
    resource: EnvelopeResource
    summary: str
    request: None | RequestRef | Unset = UNSET
    resource_type: None | str | Unset = UNSET
    resource_version: None | str | Unset = UNSET
    simulated: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.request_ref import RequestRef

        create_time = self.create_time.isoformat()

        event_type = self.event_type

        event_version = self.event_version

        id = self.id

        links = []
        for links_item_data in self.links:
            links_item = links_item_data.to_dict()
            links.append(links_item)

        livemode = self.livemode

        resource = self.resource.to_dict()

        summary = self.summary

        request: dict[str, Any] | None | Unset
        if isinstance(self.request, Unset):
            request = UNSET
        elif isinstance(self.request, RequestRef):
            request = self.request.to_dict()
        else:
            request = self.request

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

        simulated = self.simulated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "create_time": create_time,
                "event_type": event_type,
                "event_version": event_version,
                "id": id,
                "links": links,
                "livemode": livemode,
                "resource": resource,
                "summary": summary,
            }
        )
        if request is not UNSET:
            field_dict["request"] = request
        if resource_type is not UNSET:
            field_dict["resource_type"] = resource_type
        if resource_version is not UNSET:
            field_dict["resource_version"] = resource_version
        if simulated is not UNSET:
            field_dict["simulated"] = simulated

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.envelope_resource import EnvelopeResource
        from ..models.link import Link
        from ..models.request_ref import RequestRef

        d = dict(src_dict)
        create_time = datetime.datetime.fromisoformat(d.pop("create_time"))

        event_type = d.pop("event_type")

        event_version = d.pop("event_version")

        id = d.pop("id")

        links = []
        _links = d.pop("links")
        for links_item_data in _links:
            links_item = Link.from_dict(links_item_data)

            links.append(links_item)

        livemode = d.pop("livemode")

        resource = EnvelopeResource.from_dict(d.pop("resource"))

        summary = d.pop("summary")

        def _parse_request(data: object) -> None | RequestRef | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                request_type_0 = RequestRef.from_dict(data)

                return request_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RequestRef | Unset, data)

        request = _parse_request(d.pop("request", UNSET))

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

        simulated = d.pop("simulated", UNSET)

        envelope = cls(
            create_time=create_time,
            event_type=event_type,
            event_version=event_version,
            id=id,
            links=links,
            livemode=livemode,
            resource=resource,
            summary=summary,
            request=request,
            resource_type=resource_type,
            resource_version=resource_version,
            simulated=simulated,
        )

        envelope.additional_properties = d
        return envelope

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
