from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_type_view_sample_type_0 import EventTypeViewSampleType0
    from ..models.event_type_view_schema_type_0 import EventTypeViewSchemaType0


T = TypeVar("T", bound="EventTypeView")


@_attrs_define
class EventTypeView:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339 UTC time
        description (str):
        name (str): An event type, such as `charge.dispute.closed` or `PAYMENT.CAPTURE.COMPLETED`
        resource_versions (list[str]):
        status (str):
        updated_at (datetime.datetime): RFC 3339 UTC time
        resource_type (None | str | Unset):
        resource_version (None | str | Unset):
        sample (EventTypeViewSampleType0 | None | Unset):
        schema (EventTypeViewSchemaType0 | None | Unset):
    """

    created_at: datetime.datetime
    description: str
    name: str
    resource_versions: list[str]
    status: str
    updated_at: datetime.datetime
    resource_type: None | str | Unset = UNSET
    resource_version: None | str | Unset = UNSET
    sample: EventTypeViewSampleType0 | None | Unset = UNSET
    schema: EventTypeViewSchemaType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.event_type_view_sample_type_0 import EventTypeViewSampleType0
        from ..models.event_type_view_schema_type_0 import EventTypeViewSchemaType0

        created_at = self.created_at.isoformat()

        description = self.description

        name = self.name

        resource_versions = self.resource_versions

        status = self.status

        updated_at = self.updated_at.isoformat()

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

        sample: dict[str, Any] | None | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        elif isinstance(self.sample, EventTypeViewSampleType0):
            sample = self.sample.to_dict()
        else:
            sample = self.sample

        schema: dict[str, Any] | None | Unset
        if isinstance(self.schema, Unset):
            schema = UNSET
        elif isinstance(self.schema, EventTypeViewSchemaType0):
            schema = self.schema.to_dict()
        else:
            schema = self.schema

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "description": description,
                "name": name,
                "resource_versions": resource_versions,
                "status": status,
                "updated_at": updated_at,
            }
        )
        if resource_type is not UNSET:
            field_dict["resource_type"] = resource_type
        if resource_version is not UNSET:
            field_dict["resource_version"] = resource_version
        if sample is not UNSET:
            field_dict["sample"] = sample
        if schema is not UNSET:
            field_dict["schema"] = schema

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.event_type_view_sample_type_0 import EventTypeViewSampleType0
        from ..models.event_type_view_schema_type_0 import EventTypeViewSchemaType0

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        description = d.pop("description")

        name = d.pop("name")

        resource_versions = cast(list[str], d.pop("resource_versions"))

        status = d.pop("status")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

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

        def _parse_sample(data: object) -> EventTypeViewSampleType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sample_type_0 = EventTypeViewSampleType0.from_dict(data)

                return sample_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventTypeViewSampleType0 | None | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        def _parse_schema(data: object) -> EventTypeViewSchemaType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                schema_type_0 = EventTypeViewSchemaType0.from_dict(data)

                return schema_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventTypeViewSchemaType0 | None | Unset, data)

        schema = _parse_schema(d.pop("schema", UNSET))

        event_type_view = cls(
            created_at=created_at,
            description=description,
            name=name,
            resource_versions=resource_versions,
            status=status,
            updated_at=updated_at,
            resource_type=resource_type,
            resource_version=resource_version,
            sample=sample,
            schema=schema,
        )

        event_type_view.additional_properties = d
        return event_type_view

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
