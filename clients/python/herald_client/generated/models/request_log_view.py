from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.mode import Mode
from ..types import UNSET, Unset

T = TypeVar("T", bound="RequestLogView")


@_attrs_define
class RequestLogView:
    """
    Attributes:
        api_key_id (str): An API key id, `key_` followed by 26 characters
        created_at (datetime.datetime): RFC 3339 UTC time
        duration_ms (int):
        id (str): A request id, `req_` followed by 26 characters: the `Request-Id` header of the answer
        method (str):
        mode (Mode): Which of an account's two environments: live data, or test data that reaches only test webhooks.
        path (str):
        status (int):
        client_address (None | str | Unset):
        event_id (None | str | Unset):
        idempotency_key (None | str | Unset):
        request_body (None | str | Unset): In `GET /v1/request-logs/{id}` only: the request's body (writes only, else
            null), secrets redacted.
        response_body (None | str | Unset): In `GET /v1/request-logs/{id}` only: the answer's body (writes only, else
            null), secrets redacted.
    """

    api_key_id: str
    created_at: datetime.datetime
    duration_ms: int
    id: str
    method: str
    mode: Mode
    path: str
    status: int
    client_address: None | str | Unset = UNSET
    event_id: None | str | Unset = UNSET
    idempotency_key: None | str | Unset = UNSET
    request_body: None | str | Unset = UNSET
    response_body: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        api_key_id = self.api_key_id

        created_at = self.created_at.isoformat()

        duration_ms = self.duration_ms

        id = self.id

        method = self.method

        mode = self.mode.value

        path = self.path

        status = self.status

        client_address: None | str | Unset
        if isinstance(self.client_address, Unset):
            client_address = UNSET
        else:
            client_address = self.client_address

        event_id: None | str | Unset
        if isinstance(self.event_id, Unset):
            event_id = UNSET
        else:
            event_id = self.event_id

        idempotency_key: None | str | Unset
        if isinstance(self.idempotency_key, Unset):
            idempotency_key = UNSET
        else:
            idempotency_key = self.idempotency_key

        request_body: None | str | Unset
        if isinstance(self.request_body, Unset):
            request_body = UNSET
        else:
            request_body = self.request_body

        response_body: None | str | Unset
        if isinstance(self.response_body, Unset):
            response_body = UNSET
        else:
            response_body = self.response_body

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "api_key_id": api_key_id,
                "created_at": created_at,
                "duration_ms": duration_ms,
                "id": id,
                "method": method,
                "mode": mode,
                "path": path,
                "status": status,
            }
        )
        if client_address is not UNSET:
            field_dict["client_address"] = client_address
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if idempotency_key is not UNSET:
            field_dict["idempotency_key"] = idempotency_key
        if request_body is not UNSET:
            field_dict["request_body"] = request_body
        if response_body is not UNSET:
            field_dict["response_body"] = response_body

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        api_key_id = d.pop("api_key_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        duration_ms = d.pop("duration_ms")

        id = d.pop("id")

        method = d.pop("method")

        mode = Mode(d.pop("mode"))

        path = d.pop("path")

        status = d.pop("status")

        def _parse_client_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_address = _parse_client_address(d.pop("client_address", UNSET))

        def _parse_event_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        event_id = _parse_event_id(d.pop("event_id", UNSET))

        def _parse_idempotency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotency_key", UNSET))

        def _parse_request_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_body = _parse_request_body(d.pop("request_body", UNSET))

        def _parse_response_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        response_body = _parse_response_body(d.pop("response_body", UNSET))

        request_log_view = cls(
            api_key_id=api_key_id,
            created_at=created_at,
            duration_ms=duration_ms,
            id=id,
            method=method,
            mode=mode,
            path=path,
            status=status,
            client_address=client_address,
            event_id=event_id,
            idempotency_key=idempotency_key,
            request_body=request_body,
            response_body=response_body,
        )

        request_log_view.additional_properties = d
        return request_log_view

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
