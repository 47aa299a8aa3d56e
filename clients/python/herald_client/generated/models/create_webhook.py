from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_webhook_headers_type_0 import CreateWebhookHeadersType0
    from ..models.event_type_ref import EventTypeRef
    from ..models.o_auth_2_body import OAuth2Body
    from ..models.tls_body import TlsBody


T = TypeVar("T", bound="CreateWebhook")


@_attrs_define
class CreateWebhook:
    """
    Attributes:
        event_types (list[EventTypeRef]):
        url (str): Where deliveries go, by scheme: `https://…` (POSTed to),
            `amqp://user:pass@host:port/vhost?exchange=E&routing_key=K`
            (RabbitMQ), `nats://host:port?subject=S` (NATS JetStream) or `redis://host:port/db?stream=S` (Redis
            Streams). A password in the URL is sealed and shown back as `***`.
        api_version (None | str | Unset): The `api_version` of Stripe envelopes (format `stripe`); default 2018-02-06.
        description (None | str | Unset):
        filter_ (None | str | Unset): A CEL expression over the event object (its fields are top-level names): only
            events it holds
            for are delivered, e.g. `resource.amount >= 10000 && resource.currency == "eur"`.
        format_ (None | str | Unset): `standard` (default), `stripe` or `paypal`.
        headers (CreateWebhookHeadersType0 | None | Unset): Request headers sent with every delivery (not `Host`,
            `Content-*`, hop-by-hop or signature headers).
        max_in_flight (int | None | Unset): Requests to this webhook at once, at most (1 to 1,000); unset: only Herald's
            overall limit.
        oauth2 (None | OAuth2Body | Unset):
        ordering (None | str | Unset): `none` (default) or `fifo`: one delivery at a time, in publish order.
        rate_limit (int | None | Unset): Deliveries per second at most (1 to 10,000); unset: no limit.
        signing (None | str | Unset): `hmac-sha256` (the default for `standard` and `stripe`), `ed25519` (`standard`
            only) or `rsa-sha256`
            (`paypal`, its default and only choice).
        tls (None | TlsBody | Unset):
    """

    event_types: list[EventTypeRef]
    url: str
    api_version: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    filter_: None | str | Unset = UNSET
    format_: None | str | Unset = UNSET
    headers: CreateWebhookHeadersType0 | None | Unset = UNSET
    max_in_flight: int | None | Unset = UNSET
    oauth2: None | OAuth2Body | Unset = UNSET
    ordering: None | str | Unset = UNSET
    rate_limit: int | None | Unset = UNSET
    signing: None | str | Unset = UNSET
    tls: None | TlsBody | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.create_webhook_headers_type_0 import CreateWebhookHeadersType0
        from ..models.o_auth_2_body import OAuth2Body
        from ..models.tls_body import TlsBody

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.to_dict()
            event_types.append(event_types_item)

        url = self.url

        api_version: None | str | Unset
        if isinstance(self.api_version, Unset):
            api_version = UNSET
        else:
            api_version = self.api_version

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        filter_: None | str | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        else:
            filter_ = self.filter_

        format_: None | str | Unset
        if isinstance(self.format_, Unset):
            format_ = UNSET
        else:
            format_ = self.format_

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, CreateWebhookHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        max_in_flight: int | None | Unset
        if isinstance(self.max_in_flight, Unset):
            max_in_flight = UNSET
        else:
            max_in_flight = self.max_in_flight

        oauth2: dict[str, Any] | None | Unset
        if isinstance(self.oauth2, Unset):
            oauth2 = UNSET
        elif isinstance(self.oauth2, OAuth2Body):
            oauth2 = self.oauth2.to_dict()
        else:
            oauth2 = self.oauth2

        ordering: None | str | Unset
        if isinstance(self.ordering, Unset):
            ordering = UNSET
        else:
            ordering = self.ordering

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        signing: None | str | Unset
        if isinstance(self.signing, Unset):
            signing = UNSET
        else:
            signing = self.signing

        tls: dict[str, Any] | None | Unset
        if isinstance(self.tls, Unset):
            tls = UNSET
        elif isinstance(self.tls, TlsBody):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_types": event_types,
                "url": url,
            }
        )
        if api_version is not UNSET:
            field_dict["api_version"] = api_version
        if description is not UNSET:
            field_dict["description"] = description
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if format_ is not UNSET:
            field_dict["format"] = format_
        if headers is not UNSET:
            field_dict["headers"] = headers
        if max_in_flight is not UNSET:
            field_dict["max_in_flight"] = max_in_flight
        if oauth2 is not UNSET:
            field_dict["oauth2"] = oauth2
        if ordering is not UNSET:
            field_dict["ordering"] = ordering
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if signing is not UNSET:
            field_dict["signing"] = signing
        if tls is not UNSET:
            field_dict["tls"] = tls

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_webhook_headers_type_0 import CreateWebhookHeadersType0
        from ..models.event_type_ref import EventTypeRef
        from ..models.o_auth_2_body import OAuth2Body
        from ..models.tls_body import TlsBody

        d = dict(src_dict)
        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in _event_types:
            event_types_item = EventTypeRef.from_dict(event_types_item_data)

            event_types.append(event_types_item)

        url = d.pop("url")

        def _parse_api_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_version = _parse_api_version(d.pop("api_version", UNSET))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_filter_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_format_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        format_ = _parse_format_(d.pop("format", UNSET))

        def _parse_headers(data: object) -> CreateWebhookHeadersType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = CreateWebhookHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CreateWebhookHeadersType0 | None | Unset, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_max_in_flight(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_in_flight = _parse_max_in_flight(d.pop("max_in_flight", UNSET))

        def _parse_oauth2(data: object) -> None | OAuth2Body | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                oauth2_type_0 = OAuth2Body.from_dict(data)

                return oauth2_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OAuth2Body | Unset, data)

        oauth2 = _parse_oauth2(d.pop("oauth2", UNSET))

        def _parse_ordering(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ordering = _parse_ordering(d.pop("ordering", UNSET))

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        def _parse_signing(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        signing = _parse_signing(d.pop("signing", UNSET))

        def _parse_tls(data: object) -> None | TlsBody | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_0 = TlsBody.from_dict(data)

                return tls_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TlsBody | Unset, data)

        tls = _parse_tls(d.pop("tls", UNSET))

        create_webhook = cls(
            event_types=event_types,
            url=url,
            api_version=api_version,
            description=description,
            filter_=filter_,
            format_=format_,
            headers=headers,
            max_in_flight=max_in_flight,
            oauth2=oauth2,
            ordering=ordering,
            rate_limit=rate_limit,
            signing=signing,
            tls=tls,
        )

        return create_webhook
