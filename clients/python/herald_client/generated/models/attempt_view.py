from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_view import ErrorView
    from ..models.request_view import RequestView
    from ..models.response_view import ResponseView


T = TypeVar("T", bound="AttemptView")


@_attrs_define
class AttemptView:
    """
    Attributes:
        duration_ms (int):
        id (str):
        number (int):
        request (RequestView):
        started_at (datetime.datetime): RFC 3339 UTC time
        trigger (str):
        error (ErrorView | None | Unset):
        node (None | str | Unset): The Herald process that made the attempt.
        response (None | ResponseView | Unset):
    """

    duration_ms: int
    id: str
    number: int
    request: RequestView
    started_at: datetime.datetime
    trigger: str
    error: ErrorView | None | Unset = UNSET
    node: None | str | Unset = UNSET
    response: None | ResponseView | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.error_view import ErrorView
        from ..models.response_view import ResponseView

        duration_ms = self.duration_ms

        id = self.id

        number = self.number

        request = self.request.to_dict()

        started_at = self.started_at.isoformat()

        trigger = self.trigger

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, ErrorView):
            error = self.error.to_dict()
        else:
            error = self.error

        node: None | str | Unset
        if isinstance(self.node, Unset):
            node = UNSET
        else:
            node = self.node

        response: dict[str, Any] | None | Unset
        if isinstance(self.response, Unset):
            response = UNSET
        elif isinstance(self.response, ResponseView):
            response = self.response.to_dict()
        else:
            response = self.response

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration_ms": duration_ms,
                "id": id,
                "number": number,
                "request": request,
                "started_at": started_at,
                "trigger": trigger,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if node is not UNSET:
            field_dict["node"] = node
        if response is not UNSET:
            field_dict["response"] = response

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.error_view import ErrorView
        from ..models.request_view import RequestView
        from ..models.response_view import ResponseView

        d = dict(src_dict)
        duration_ms = d.pop("duration_ms")

        id = d.pop("id")

        number = d.pop("number")

        request = RequestView.from_dict(d.pop("request"))

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        trigger = d.pop("trigger")

        def _parse_error(data: object) -> ErrorView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = ErrorView.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorView | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_node(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        node = _parse_node(d.pop("node", UNSET))

        def _parse_response(data: object) -> None | ResponseView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_type_0 = ResponseView.from_dict(data)

                return response_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResponseView | Unset, data)

        response = _parse_response(d.pop("response", UNSET))

        attempt_view = cls(
            duration_ms=duration_ms,
            id=id,
            number=number,
            request=request,
            started_at=started_at,
            trigger=trigger,
            error=error,
            node=node,
            response=response,
        )

        attempt_view.additional_properties = d
        return attempt_view

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
