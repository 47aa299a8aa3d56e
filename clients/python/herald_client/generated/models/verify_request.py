from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0
    from ..models.verify_request_webhook_event_type_0 import VerifyRequestWebhookEventType0


T = TypeVar("T", bound="VerifyRequest")


@_attrs_define
class VerifyRequest:
    """Either shape; which one is meant is decided by `webhook_event`.

    Attributes:
        webhook_id (str):
        auth_algo (None | str | Unset): PayPal's shape: `PAYPAL-AUTH-ALGO`.
        body (None | str | Unset): Herald's shape: the delivery's body, exactly as received.
        cert_url (None | str | Unset): PayPal's shape: `PAYPAL-CERT-URL`.
        headers (None | Unset | VerifyRequestHeadersType0): Herald's shape: the delivery's headers (names in any case).
        transmission_id (None | str | Unset): PayPal's shape: `PAYPAL-TRANSMISSION-ID`.
        transmission_sig (None | str | Unset): PayPal's shape: `PAYPAL-TRANSMISSION-SIG`.
        transmission_time (None | str | Unset): PayPal's shape: `PAYPAL-TRANSMISSION-TIME`.
        webhook_event (None | Unset | VerifyRequestWebhookEventType0): PayPal's shape: the delivered event object.
    """

    webhook_id: str
    auth_algo: None | str | Unset = UNSET
    body: None | str | Unset = UNSET
    cert_url: None | str | Unset = UNSET
    headers: None | Unset | VerifyRequestHeadersType0 = UNSET
    transmission_id: None | str | Unset = UNSET
    transmission_sig: None | str | Unset = UNSET
    transmission_time: None | str | Unset = UNSET
    webhook_event: None | Unset | VerifyRequestWebhookEventType0 = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0
        from ..models.verify_request_webhook_event_type_0 import VerifyRequestWebhookEventType0

        webhook_id = self.webhook_id

        auth_algo: None | str | Unset
        if isinstance(self.auth_algo, Unset):
            auth_algo = UNSET
        else:
            auth_algo = self.auth_algo

        body: None | str | Unset
        if isinstance(self.body, Unset):
            body = UNSET
        else:
            body = self.body

        cert_url: None | str | Unset
        if isinstance(self.cert_url, Unset):
            cert_url = UNSET
        else:
            cert_url = self.cert_url

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, VerifyRequestHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        transmission_id: None | str | Unset
        if isinstance(self.transmission_id, Unset):
            transmission_id = UNSET
        else:
            transmission_id = self.transmission_id

        transmission_sig: None | str | Unset
        if isinstance(self.transmission_sig, Unset):
            transmission_sig = UNSET
        else:
            transmission_sig = self.transmission_sig

        transmission_time: None | str | Unset
        if isinstance(self.transmission_time, Unset):
            transmission_time = UNSET
        else:
            transmission_time = self.transmission_time

        webhook_event: dict[str, Any] | None | Unset
        if isinstance(self.webhook_event, Unset):
            webhook_event = UNSET
        elif isinstance(self.webhook_event, VerifyRequestWebhookEventType0):
            webhook_event = self.webhook_event.to_dict()
        else:
            webhook_event = self.webhook_event

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "webhook_id": webhook_id,
            }
        )
        if auth_algo is not UNSET:
            field_dict["auth_algo"] = auth_algo
        if body is not UNSET:
            field_dict["body"] = body
        if cert_url is not UNSET:
            field_dict["cert_url"] = cert_url
        if headers is not UNSET:
            field_dict["headers"] = headers
        if transmission_id is not UNSET:
            field_dict["transmission_id"] = transmission_id
        if transmission_sig is not UNSET:
            field_dict["transmission_sig"] = transmission_sig
        if transmission_time is not UNSET:
            field_dict["transmission_time"] = transmission_time
        if webhook_event is not UNSET:
            field_dict["webhook_event"] = webhook_event

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0
        from ..models.verify_request_webhook_event_type_0 import VerifyRequestWebhookEventType0

        d = dict(src_dict)
        webhook_id = d.pop("webhook_id")

        def _parse_auth_algo(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        auth_algo = _parse_auth_algo(d.pop("auth_algo", UNSET))

        def _parse_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body = _parse_body(d.pop("body", UNSET))

        def _parse_cert_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cert_url = _parse_cert_url(d.pop("cert_url", UNSET))

        def _parse_headers(data: object) -> None | Unset | VerifyRequestHeadersType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = VerifyRequestHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VerifyRequestHeadersType0, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_transmission_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        transmission_id = _parse_transmission_id(d.pop("transmission_id", UNSET))

        def _parse_transmission_sig(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        transmission_sig = _parse_transmission_sig(d.pop("transmission_sig", UNSET))

        def _parse_transmission_time(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        transmission_time = _parse_transmission_time(d.pop("transmission_time", UNSET))

        def _parse_webhook_event(data: object) -> None | Unset | VerifyRequestWebhookEventType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                webhook_event_type_0 = VerifyRequestWebhookEventType0.from_dict(data)

                return webhook_event_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VerifyRequestWebhookEventType0, data)

        webhook_event = _parse_webhook_event(d.pop("webhook_event", UNSET))

        verify_request = cls(
            webhook_id=webhook_id,
            auth_algo=auth_algo,
            body=body,
            cert_url=cert_url,
            headers=headers,
            transmission_id=transmission_id,
            transmission_sig=transmission_sig,
            transmission_time=transmission_time,
            webhook_event=webhook_event,
        )

        return verify_request
