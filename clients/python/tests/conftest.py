from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from herald_client import MerchantClient, OperatorClient
from herald_client.generated.api.operator import create_account, put_event_type
from herald_client.generated.models import CreateAccount, PutEventType
from support import Account, HeraldProcess, Receiver

EVENT_TYPES = ("test.created", "test.updated")


@pytest.fixture(scope="session")
def herald() -> Iterator[HeraldProcess]:
    """One Herald for the whole session (fails every test loudly when HERALD_BIN is missing)."""
    try:
        server = HeraldProcess().start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        with OperatorClient(server.url, server.admin_token) as operator:
            for name in EVENT_TYPES:
                operator.call(put_event_type, name=name, body=PutEventType(description=f"{name} (tests)"))
        yield server
    finally:
        server.stop()


@pytest.fixture
def operator(herald: HeraldProcess) -> Iterator[OperatorClient]:
    with OperatorClient(herald.url, herald.admin_token) as client:
        yield client


@pytest.fixture
def account(operator: OperatorClient) -> Account:
    """A new merchant account for each test, so tests never see each other's events."""
    created = operator.call(create_account, body=CreateAccount(name="acct-" + secrets.token_hex(4)))
    return Account(id=created.id, client_id=created.client_id, client_secret=created.client_secret)


@pytest.fixture
def merchant(herald: HeraldProcess, account: Account) -> Iterator[MerchantClient]:
    with MerchantClient(herald.url, account.client_id, account.client_secret) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
