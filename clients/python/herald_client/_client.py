"""The operator and merchant clients: the generated API plus what it cannot do by itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from ._auth import AdminToken, ClientCredentials
from ._errors import HeraldError
from ._retry import RetryPolicy
from .generated import AuthenticatedClient, Client
from .generated.api.events import list_events
from .generated.api.operator import publish_event, publish_event_batch
from .generated.api.webhooks import list_deliveries, list_webhooks
from .generated.models import (
    DeliveryView,
    Envelope,
    PublishEvent,
    WebhookView,
)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class _Json:
    """A request body given as plain JSON, for the generated functions that call ``body.to_dict()``."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def to_dict(self) -> Any:
        return self._value


def _event_json(event: PublishEvent | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(event, PublishEvent):
        return event.to_dict()
    if isinstance(event, Mapping):
        return dict(event)
    raise TypeError(f"an event is a PublishEvent or a mapping, not {type(event).__name__}")


def _next_cursor(page: Any) -> str | None:
    """The cursor of the next page: ``next_cursor`` or the cursor in the ``rel: next`` link."""
    cursor = getattr(page, "next_cursor", None)
    if isinstance(cursor, str) and cursor:
        return cursor
    for link in getattr(page, "links", None) or []:
        if getattr(link, "rel", None) == "next":
            values = parse_qs(urlsplit(link.href).query).get("cursor")
            if values and values[0]:
                return values[0]
    return None


class Herald:
    """What the operator and merchant clients share.

    ``api`` is the generated :class:`~herald_client.generated.AuthenticatedClient`, already carrying
    the caller's credentials: pass it as ``client=`` to any function of
    ``herald_client.generated.api``, or use :meth:`call`, which also turns error answers into
    :class:`HeraldError`.
    """

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            headers=dict(headers or {}),
            transport=transport,
        )
        # The credentials travel in the httpx client's auth, so the generated client's own token
        # header is never used.
        self.api = AuthenticatedClient(base_url=self.base_url, token="").set_httpx_client(self.http)

    # -- plumbing -------------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, operation: ModuleType, /, **kwargs: Any) -> httpx.Response:
        """Sends one request built by a generated operation module (e.g.
        ``herald_client.generated.api.events.show_event``) with its keyword arguments; returns
        the raw answer, whatever its status."""
        return self.http.request(**operation._get_kwargs(**kwargs))

    def parse(self, operation: ModuleType, response: httpx.Response) -> Any:
        """The generated model for a 2xx answer (None for 204); raises HeraldError otherwise."""
        if not 200 <= response.status_code < 300:
            raise HeraldError.from_response(response)
        return operation._parse_response(client=self.api, response=response)

    def call(self, operation: ModuleType, /, **kwargs: Any) -> Any:
        """Runs a generated operation and returns its parsed 2xx answer; any other answer raises
        :class:`HeraldError` with the status and the error body's ``name`` and ``message``.

        >>> from herald_client.generated.api.events import show_event
        >>> event = merchant.call(show_event, id="evt_...")
        """
        return self.parse(operation, self.send(operation, **kwargs))

    def _pages(self, operation: ModuleType, items: str, **kwargs: Any) -> Iterator[Any]:
        cursor = kwargs.pop("cursor", None)
        while True:
            if cursor is not None:
                kwargs["cursor"] = cursor
            page = self.call(operation, **kwargs)
            yield from getattr(page, items)
            cursor = _next_cursor(page)
            if cursor is None or not getattr(page, items):
                return


class OperatorClient(Herald):
    """The operator (the platform running Herald), authenticated with the admin token."""

    def __init__(self, base_url: str, admin_token: str, **options: Any) -> None:
        super().__init__(base_url, AdminToken(admin_token), **options)

    def publish(
        self,
        event: PublishEvent | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Envelope:
        """``POST /v1/events``: publishes one event and returns it (202 means it and all its
        deliveries are on disk).

        ``event`` is a :class:`~herald_client.generated.models.PublishEvent` or its JSON as a dict
        (``account_id``, ``event_type``, ``resource`` and the optional fields). Every try sends the
        same ``Idempotency-Key`` (a new UUID unless one is given), so a retried publish never
        creates a second event. 429 and 503 are retried per :attr:`retry`; other errors raise
        :class:`HeraldError`.
        """
        key = idempotency_key or str(uuid.uuid4())
        body = _Json(_event_json(event))
        response = self.retry.send(lambda: self.send(publish_event, body=body, idempotency_key=key))
        return self.parse(publish_event, response)

    def publish_batch(
        self,
        events: Iterable[PublishEvent | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> list[Envelope]:
        """``POST /v1/events/batch``: publishes up to 1,000 events, all or nothing, and returns them
        in the order given. Idempotency and retries as for :meth:`publish`."""
        key = idempotency_key or str(uuid.uuid4())
        body = _Json({"events": [_event_json(event) for event in events]})
        response = self.retry.send(lambda: self.send(publish_event_batch, body=body, idempotency_key=key))
        return self.parse(publish_event_batch, response).events


class MerchantClient(Herald):
    """A merchant, authenticated with an API key's client id and secret through OAuth2 client
    credentials: the access token is fetched when first needed, cached, refreshed shortly before it
    expires and once more whenever an answer is 401."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin: float = 60.0,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        token_client = Client(base_url=base_url.rstrip("/"))
        token_client.set_httpx_client(httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport))
        self._token_client = token_client
        self.credentials = ClientCredentials(token_client, client_id, client_secret, refresh_margin=refresh_margin)
        super().__init__(base_url, self.credentials, timeout=timeout, transport=transport, **options)

    @property
    def access_token(self) -> str | None:
        """The access token in use (None before the first call)."""
        return self.credentials.access_token

    def close(self) -> None:
        super().close()
        self._token_client.get_httpx_client().close()

    def iter_events(self, *, page_size: int | None = None, **filters: Any) -> Iterator[Envelope]:
        """Every event notification of ``GET /v1/notifications/webhooks-events``, newest first,
        following the next cursor page after page. ``filters``: ``start_time``, ``end_time``,
        ``event_type``, ``transaction_id``."""
        if page_size is not None:
            filters["page_size"] = page_size
        return self._pages(list_events, "events", **filters)

    def iter_webhooks(self) -> Iterator[WebhookView]:
        """Every webhook of the account (``GET /v1/notifications/webhooks``)."""
        return self._pages(list_webhooks, "webhooks")

    def iter_deliveries(
        self, webhook_id: str, *, status: str | None = None, page_size: int | None = None
    ) -> Iterator[DeliveryView]:
        """Every delivery of one webhook, following the next cursor; ``status`` is ``succeeded``,
        ``failed`` or ``pending``."""
        kwargs: dict[str, Any] = {"id": webhook_id}
        if status is not None:
            kwargs["status"] = status
        if page_size is not None:
            kwargs["page_size"] = page_size
        return self._pages(list_deliveries, "deliveries", **kwargs)
