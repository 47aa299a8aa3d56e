from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.link import Link
    from ..models.o_auth_2_view import OAuth2View
    from ..models.subscribed_type import SubscribedType
    from ..models.tls_view import TlsView
    from ..models.webhook_view_headers import WebhookViewHeaders


T = TypeVar("T", bound="WebhookView")


@_attrs_define
class WebhookView:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339 UTC time
        destination (str): The kind of destination the URL names: `http`, `amqp`, `nats` or `redis`.
        event_types (list[SubscribedType]):
        format_ (str):
        headers (WebhookViewHeaders):
        id (str): A webhook id, `wh_` followed by 26 characters
        links (list[Link]):
        ordering (str):
        signing (str):
        status (str):
        updated_at (datetime.datetime): RFC 3339 UTC time
        url (str): An absolute http(s) URL
        cert_url (None | str | Unset): `rsa-sha256`: where the installation's certificate is served (also sent as
            `PAYPAL-CERT-URL`).
        public_key (None | str | Unset): `ed25519`: the `whpk_` public key.
        secret (None | str | Unset): `hmac-sha256`: the shared `whsec_` secret.
        api_version (None | str | Unset): The `api_version` of Stripe envelopes (null: the default, 2018-02-06).
        description (None | str | Unset):
        disabled_reason (None | str | Unset):
        filter_ (None | str | Unset): The payload filter (CEL); null: every subscribed event.
        max_in_flight (int | None | Unset): Concurrent requests to this webhook; null means only Herald's overall limit
            applies.
        oauth2 (None | OAuth2View | Unset):
        rate_limit (int | None | Unset): Deliveries per second; null means no limit.
        tls (None | TlsView | Unset):
    """

    created_at: datetime.datetime
    destination: str
    event_types: list[SubscribedType]
    format_: str
    headers: WebhookViewHeaders
    id: str
    links: list[Link]
    ordering: str
    signing: str
    status: str
    updated_at: datetime.datetime
    url: str
    cert_url: None | str | Unset = UNSET
    public_key: None | str | Unset = UNSET
    secret: None | str | Unset = UNSET
    api_version: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    disabled_reason: None | str | Unset = UNSET
    filter_: None | str | Unset = UNSET
    max_in_flight: int | None | Unset = UNSET
    oauth2: None | OAuth2View | Unset = UNSET
    rate_limit: int | None | Unset = UNSET
    tls: None | TlsView | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.o_auth_2_view import OAuth2View
        from ..models.tls_view import TlsView

        created_at = self.created_at.isoformat()

        destination = self.destination

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.to_dict()
            event_types.append(event_types_item)

        format_ = self.format_

        headers = self.headers.to_dict()

        id = self.id

        links = []
        for links_item_data in self.links:
            links_item = links_item_data.to_dict()
            links.append(links_item)

        ordering = self.ordering

        signing = self.signing

        status = self.status

        updated_at = self.updated_at.isoformat()

        url = self.url

        cert_url: None | str | Unset
        if isinstance(self.cert_url, Unset):
            cert_url = UNSET
        else:
            cert_url = self.cert_url

        public_key: None | str | Unset
        if isinstance(self.public_key, Unset):
            public_key = UNSET
        else:
            public_key = self.public_key

        secret: None | str | Unset
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

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

        disabled_reason: None | str | Unset
        if isinstance(self.disabled_reason, Unset):
            disabled_reason = UNSET
        else:
            disabled_reason = self.disabled_reason

        filter_: None | str | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        else:
            filter_ = self.filter_

        max_in_flight: int | None | Unset
        if isinstance(self.max_in_flight, Unset):
            max_in_flight = UNSET
        else:
            max_in_flight = self.max_in_flight

        oauth2: dict[str, Any] | None | Unset
        if isinstance(self.oauth2, Unset):
            oauth2 = UNSET
        elif isinstance(self.oauth2, OAuth2View):
            oauth2 = self.oauth2.to_dict()
        else:
            oauth2 = self.oauth2

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        tls: dict[str, Any] | None | Unset
        if isinstance(self.tls, Unset):
            tls = UNSET
        elif isinstance(self.tls, TlsView):
            tls = self.tls.to_dict()
        else:
            tls = self.tls

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "destination": destination,
                "event_types": event_types,
                "format": format_,
                "headers": headers,
                "id": id,
                "links": links,
                "ordering": ordering,
                "signing": signing,
                "status": status,
                "updated_at": updated_at,
                "url": url,
            }
        )
        if cert_url is not UNSET:
            field_dict["cert_url"] = cert_url
        if public_key is not UNSET:
            field_dict["public_key"] = public_key
        if secret is not UNSET:
            field_dict["secret"] = secret
        if api_version is not UNSET:
            field_dict["api_version"] = api_version
        if description is not UNSET:
            field_dict["description"] = description
        if disabled_reason is not UNSET:
            field_dict["disabled_reason"] = disabled_reason
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if max_in_flight is not UNSET:
            field_dict["max_in_flight"] = max_in_flight
        if oauth2 is not UNSET:
            field_dict["oauth2"] = oauth2
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if tls is not UNSET:
            field_dict["tls"] = tls

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.link import Link
        from ..models.o_auth_2_view import OAuth2View
        from ..models.subscribed_type import SubscribedType
        from ..models.tls_view import TlsView
        from ..models.webhook_view_headers import WebhookViewHeaders

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        destination = d.pop("destination")

        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in _event_types:
            event_types_item = SubscribedType.from_dict(event_types_item_data)

            event_types.append(event_types_item)

        format_ = d.pop("format")

        headers = WebhookViewHeaders.from_dict(d.pop("headers"))

        id = d.pop("id")

        links = []
        _links = d.pop("links")
        for links_item_data in _links:
            links_item = Link.from_dict(links_item_data)

            links.append(links_item)

        ordering = d.pop("ordering")

        signing = d.pop("signing")

        status = d.pop("status")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        url = d.pop("url")

        def _parse_cert_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cert_url = _parse_cert_url(d.pop("cert_url", UNSET))

        def _parse_public_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        public_key = _parse_public_key(d.pop("public_key", UNSET))

        def _parse_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

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

        def _parse_disabled_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason", UNSET))

        def _parse_filter_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        def _parse_max_in_flight(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_in_flight = _parse_max_in_flight(d.pop("max_in_flight", UNSET))

        def _parse_oauth2(data: object) -> None | OAuth2View | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                oauth2_type_0 = OAuth2View.from_dict(data)

                return oauth2_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OAuth2View | Unset, data)

        oauth2 = _parse_oauth2(d.pop("oauth2", UNSET))

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        def _parse_tls(data: object) -> None | TlsView | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tls_type_0 = TlsView.from_dict(data)

                return tls_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TlsView | Unset, data)

        tls = _parse_tls(d.pop("tls", UNSET))

        webhook_view = cls(
            created_at=created_at,
            destination=destination,
            event_types=event_types,
            format_=format_,
            headers=headers,
            id=id,
            links=links,
            ordering=ordering,
            signing=signing,
            status=status,
            updated_at=updated_at,
            url=url,
            cert_url=cert_url,
            public_key=public_key,
            secret=secret,
            api_version=api_version,
            description=description,
            disabled_reason=disabled_reason,
            filter_=filter_,
            max_in_flight=max_in_flight,
            oauth2=oauth2,
            rate_limit=rate_limit,
            tls=tls,
        )

        webhook_view.additional_properties = d
        return webhook_view

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
