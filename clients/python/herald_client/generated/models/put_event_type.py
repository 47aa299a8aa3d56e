from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.put_event_type_sample_type_0 import PutEventTypeSampleType0
    from ..models.put_event_type_schema_type_0 import PutEventTypeSchemaType0


T = TypeVar("T", bound="PutEventType")


@_attrs_define
class PutEventType:
    """
    Attributes:
        description (str):
        resource_type (None | str | Unset):
        resource_version (None | str | Unset):
        sample (None | PutEventTypeSampleType0 | Unset): The resource that simulate-event sends for this type (a JSON
            object).
        schema (None | PutEventTypeSchemaType0 | Unset): A JSON Schema that every published resource of this type must
            satisfy.
    """

    description: str
    resource_type: None | str | Unset = UNSET
    resource_version: None | str | Unset = UNSET
    sample: None | PutEventTypeSampleType0 | Unset = UNSET
    schema: None | PutEventTypeSchemaType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.put_event_type_sample_type_0 import PutEventTypeSampleType0
        from ..models.put_event_type_schema_type_0 import PutEventTypeSchemaType0

        description = self.description

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
        elif isinstance(self.sample, PutEventTypeSampleType0):
            sample = self.sample.to_dict()
        else:
            sample = self.sample

        schema: dict[str, Any] | None | Unset
        if isinstance(self.schema, Unset):
            schema = UNSET
        elif isinstance(self.schema, PutEventTypeSchemaType0):
            schema = self.schema.to_dict()
        else:
            schema = self.schema

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "description": description,
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
        from ..models.put_event_type_sample_type_0 import PutEventTypeSampleType0
        from ..models.put_event_type_schema_type_0 import PutEventTypeSchemaType0

        d = dict(src_dict)
        description = d.pop("description")

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

        def _parse_sample(data: object) -> None | PutEventTypeSampleType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sample_type_0 = PutEventTypeSampleType0.from_dict(data)

                return sample_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PutEventTypeSampleType0 | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        def _parse_schema(data: object) -> None | PutEventTypeSchemaType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                schema_type_0 = PutEventTypeSchemaType0.from_dict(data)

                return schema_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PutEventTypeSchemaType0 | Unset, data)

        schema = _parse_schema(d.pop("schema", UNSET))

        put_event_type = cls(
            description=description,
            resource_type=resource_type,
            resource_version=resource_version,
            sample=sample,
            schema=schema,
        )

        return put_event_type
