"""The client against a real `herald serve` (started by conftest.py), a real webhook receiver and,
where a test needs answers Herald would not give on cue, a scripted proxy in front of Herald."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from herald_client import (
    HeraldError,
    MerchantClient,
    OperatorClient,
    RetryPolicy,
    WebhookVerificationError,
    verify_webhook,
)
from herald_client.generated import Client
from herald_client.generated.api.events import list_events, resend_event, show_event
from herald_client.generated.api.oauth import terminate_token
from herald_client.generated.api.operator import create_account
from herald_client.generated.api.webhooks import create_webhook, show_webhook
from herald_client.generated.models import (
    CreateAccount,
    CreateWebhook,
    Envelope,
    EventTypeRef,
    PublishEvent,
    PublishEventResource,
    Resend,
    TerminateRequest,
    WebhookView,
)
from support import Account, HeraldProcess, Proxy, Receiver

JSON_503 = json.dumps({"name": "SERVICE_UNAVAILABLE", "message": "try later", "debug_id": "req_x"}).encode()
JSON_429 = json.dumps({"name": "RATE_LIMIT_REACHED", "message": "slow down", "debug_id": "req_y"}).encode()


def event(account: Account, n: int, event_type: str = "test.created") -> dict:
    return {"account_id": account.id, "event_type": event_type, "resource": {"n": n, "id": f"res_{n}"}}


def subscribe(merchant: MerchantClient, receiver: Receiver) -> WebhookView:
    return merchant.call(
        create_webhook,
        body=CreateWebhook(url=f"{receiver.url}/hook", event_types=[EventTypeRef(name="*")]),
    )


def test_publish_single_and_batch(operator: OperatorClient, merchant: MerchantClient, account: Account) -> None:
    one = operator.publish(
        PublishEvent(
            account_id=account.id, event_type="test.created", resource=PublishEventResource.from_dict({"n": 1})
        )
    )
    assert isinstance(one, Envelope)
    assert one.id.startswith("evt_")
    assert one.event_type == "test.created"
    assert one.resource.to_dict() == {"n": 1}

    batch = operator.publish_batch([event(account, 2), event(account, 3, "test.updated")])
    assert [e.resource["n"] for e in batch] == [2, 3]
    assert [e.event_type for e in batch] == ["test.created", "test.updated"]
    assert len({one.id, *(e.id for e in batch)}) == 3

    shown = merchant.call(show_event, id=batch[1].id)
    assert shown.id == batch[1].id
    assert shown.resource.to_dict() == {"n": 3, "id": "res_3"}


def test_list_and_iterate_every_page(operator: OperatorClient, merchant: MerchantClient, account: Account) -> None:
    published = operator.publish_batch([event(account, n) for n in range(4)])
    ids = {e.id for e in published}

    first = merchant.call(list_events, page_size=1)
    assert first.count == 1 and len(first.events) == 1
    assert any(link.rel == "next" for link in first.links) or first.next_cursor

    everything = merchant.call(list_events, page_size=50)
    assert {e.id for e in everything.events} == ids

    paged = list(merchant.iter_events(page_size=1))
    assert len(paged) == 4
    assert {e.id for e in paged} == ids
    assert [e.id for e in paged] == [e.id for e in everything.events]  # same order, newest first


def test_idempotency_key_returns_the_first_event(operator: OperatorClient, account: Account) -> None:
    key = str(uuid.uuid4())
    first = operator.publish(event(account, 1), idempotency_key=key)
    again = operator.publish(event(account, 1), idempotency_key=key)
    assert again.id == first.id
    other = operator.publish(event(account, 1))  # a fresh automatic key: a new event
    assert other.id != first.id

    batch_key = str(uuid.uuid4())
    batch = operator.publish_batch([event(account, 5), event(account, 6)], idempotency_key=batch_key)
    batch_again = operator.publish_batch([event(account, 5), event(account, 6)], idempotency_key=batch_key)
    assert [e.id for e in batch_again] == [e.id for e in batch]


def test_webhook_delivery_verifies_and_resend_delivers_again(
    operator: OperatorClient, merchant: MerchantClient, account: Account, receiver: Receiver
) -> None:
    webhook = subscribe(merchant, receiver)
    assert webhook.id.startswith("wh_")
    assert isinstance(webhook.secret, str) and webhook.secret.startswith("whsec_")
    assert merchant.call(show_webhook, id=webhook.id).url == f"{receiver.url}/hook"
    assert show_webhook.sync(id=webhook.id, client=merchant.api).id == webhook.id  # the generated API directly
    assert [w.id for w in merchant.iter_webhooks()] == [webhook.id]

    published = operator.publish(event(account, 42))
    receiver.wait_for(lambda ds: any(d.headers.get("webhook-id") == published.id for d in ds))
    delivery = receiver.for_event(published.id)[0]

    payload = verify_webhook(webhook.secret, delivery.headers, delivery.body)
    assert payload["id"] == published.id
    assert payload["resource"] == {"n": 42, "id": "res_42"}

    tampered = delivery.body.replace(b"42", b"43")
    assert tampered != delivery.body
    with pytest.raises(WebhookVerificationError):
        verify_webhook(webhook.secret, delivery.headers, tampered)
    with pytest.raises(WebhookVerificationError):
        verify_webhook("whsec_" + "A" * 32, delivery.headers, delivery.body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(webhook.secret, {**delivery.headers, "webhook-signature": "garbage"}, delivery.body)

    resent = merchant.call(resend_event, id=published.id, body=Resend())
    assert resent.id == published.id
    receiver.wait_for(lambda ds: sum(d.headers.get("webhook-id") == published.id for d in ds) >= 2)
    second = receiver.for_event(published.id)[1]
    assert second.body == delivery.body  # the same bytes, freshly signed
    assert verify_webhook(webhook.secret, second.headers, second.body)["id"] == published.id


def test_errors_carry_status_name_and_message(herald: HeraldProcess, account: Account) -> None:
    proxy = Proxy(herald.url)
    try:
        with OperatorClient(proxy.url, herald.admin_token) as operator, pytest.raises(HeraldError) as caught:
            operator.publish(event(account, 1, event_type="no.such.type"))
        assert caught.value.status == 422
        assert caught.value.name == "UNKNOWN_EVENT_TYPE"
        assert "no.such.type" in caught.value.message
        assert caught.value.debug_id and caught.value.debug_id == caught.value.request_id
        assert len(proxy.seen("POST", "/v1/events")) == 1  # not retried
    finally:
        proxy.close()

    with MerchantClient(herald.url, account.client_id, "wrong-secret") as merchant:
        with pytest.raises(HeraldError) as caught:
            merchant.call(list_events)
        assert caught.value.status == 401
        assert caught.value.name == "AUTHENTICATION_FAILURE"


def test_publish_retries_503_honouring_retry_after(
    herald: HeraldProcess, merchant: MerchantClient, account: Account
) -> None:
    def once_unavailable(method: str, path: str, n: int):
        if (method, path, n) == ("POST", "/v1/events", 1):
            return 503, {"Retry-After": "1", "Content-Type": "application/json"}, JSON_503
        return None

    proxy = Proxy(herald.url, once_unavailable)
    try:
        with OperatorClient(proxy.url, herald.admin_token) as operator:
            started = time.monotonic()
            published = operator.publish(event(account, 7))
            elapsed = time.monotonic() - started
        tries = proxy.seen("POST", "/v1/events")
        assert [t.status for t in tries] == [503, 202]
        keys = [t.headers.get("Idempotency-Key") for t in tries]
        assert keys[0] and keys[0] == keys[1]
        uuid.UUID(keys[0])
        assert elapsed >= 0.9, "Retry-After: 1 was not waited for"
        assert merchant.call(show_event, id=published.id).resource["n"] == 7
    finally:
        proxy.close()


def test_publish_batch_retries_429_with_the_same_key(
    herald: HeraldProcess, merchant: MerchantClient, account: Account
) -> None:
    def once_limited(method: str, path: str, n: int):
        if (method, path, n) == ("POST", "/v1/events/batch", 1):
            return 429, {"Retry-After": "1", "Content-Type": "application/json"}, JSON_429
        return None

    proxy = Proxy(herald.url, once_limited)
    try:
        with OperatorClient(proxy.url, herald.admin_token) as operator:
            started = time.monotonic()
            published = operator.publish_batch([event(account, 8), event(account, 9)], idempotency_key="batch-key-1")
            elapsed = time.monotonic() - started
        tries = proxy.seen("POST", "/v1/events/batch")
        assert [t.status for t in tries] == [429, 202]
        assert [t.headers.get("Idempotency-Key") for t in tries] == ["batch-key-1", "batch-key-1"]
        assert elapsed >= 0.9
        assert {e.id for e in merchant.iter_events()} == {e.id for e in published}
    finally:
        proxy.close()


def test_publish_gives_up_after_max_tries(herald: HeraldProcess, account: Account) -> None:
    proxy = Proxy(herald.url, lambda method, path, n: (503, {"Retry-After": "0"}, b"overloaded"))
    try:
        policy = RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.05)
        with (
            OperatorClient(proxy.url, herald.admin_token, retry=policy) as operator,
            pytest.raises(HeraldError) as caught,
        ):
            operator.publish(event(account, 1))
        assert caught.value.status == 503
        assert caught.value.name == "HTTP_503"  # the body was not Herald's JSON
        tries = proxy.seen("POST", "/v1/events")
        assert len(tries) == 3
        assert len({t.headers.get("Idempotency-Key") for t in tries}) == 1
    finally:
        proxy.close()


def test_revoked_token_is_replaced_transparently(herald: HeraldProcess, account: Account) -> None:
    proxy = Proxy(herald.url)
    try:
        with MerchantClient(proxy.url, account.client_id, account.client_secret) as merchant:
            merchant.call(list_events)
            old = merchant.access_token
            assert old

            basic = Client(base_url=herald.url, httpx_args={"auth": (account.client_id, account.client_secret)})
            with basic:
                revoked = terminate_token.sync_detailed(client=basic, body=TerminateRequest(token=old))
            assert revoked.status_code == 204
            direct = httpx.get(
                f"{herald.url}/v1/notifications/webhooks-events", headers={"Authorization": f"Bearer {old}"}
            )
            assert direct.status_code == 401

            assert merchant.call(list_events).count == 0
            assert merchant.access_token and merchant.access_token != old

        flow = [(e.method, e.path, e.status) for e in proxy.seen()]
        assert flow == [
            ("POST", "/v1/oauth2/token", 200),
            ("GET", "/v1/notifications/webhooks-events", 200),
            ("GET", "/v1/notifications/webhooks-events", 401),
            ("POST", "/v1/oauth2/token", 200),
            ("GET", "/v1/notifications/webhooks-events", 200),
        ]
    finally:
        proxy.close()


def test_token_is_refreshed_before_it_expires() -> None:
    short = HeraldProcess({"HERALD_TOKEN_LIFETIME": "2s"}).start()  # a second Herald, tokens living 2 s
    proxy = Proxy(short.url)
    try:
        with OperatorClient(short.url, short.admin_token) as operator:
            created = operator.call(create_account, body=CreateAccount(name="short-lived"))
        with MerchantClient(proxy.url, created.client_id, created.client_secret) as merchant:
            merchant.call(list_events)
            first = merchant.access_token
            time.sleep(2.3)
            merchant.call(list_events)
            assert merchant.access_token != first
        flow = [(e.method, e.path, e.status) for e in proxy.seen()]
        assert flow == [
            ("POST", "/v1/oauth2/token", 200),
            ("GET", "/v1/notifications/webhooks-events", 200),
            ("POST", "/v1/oauth2/token", 200),  # before the call: no 401 was needed
            ("GET", "/v1/notifications/webhooks-events", 200),
        ]
    finally:
        proxy.close()
        short.stop()
