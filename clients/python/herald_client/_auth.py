"""httpx authentication for the two kinds of caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

from ._errors import HeraldError
from .generated import Client
from .generated.api.oauth import issue_token
from .generated.models import TokenRequest, TokenResponse


class AdminToken(httpx.Auth):
    """The operator's ``Authorization: Bearer <admin token>``."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class ClientCredentials(httpx.Auth):
    """A merchant's OAuth2 client-credentials flow.

    The access token is fetched on the first request, cached, and fetched again shortly before its
    ``expires_in`` runs out (``refresh_margin`` seconds before, at most a tenth of its lifetime). A
    request answered 401 gets a new token and is sent once more. Safe to share between threads.
    """

    requires_response_body = False

    def __init__(
        self,
        token_client: Client,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_client = token_client
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    @property
    def access_token(self) -> str | None:
        """The cached access token, if one has been fetched."""
        return self._token

    def token(self, *, stale: str | None = None) -> str:
        """The current access token, fetching one when none is cached, it is about to expire, or
        it is ``stale`` (the token a 401 answered)."""
        with self._lock:
            fresh = self._token is not None and self._clock() < self._refresh_at
            if fresh and (stale is None or stale != self._token):
                assert self._token is not None
                return self._token
            return self._fetch()

    def _fetch(self) -> str:
        kwargs = issue_token._get_kwargs(body=TokenRequest(grant_type="client_credentials"))
        started = self._clock()
        response = self._token_client.get_httpx_client().request(**kwargs, auth=self._basic)
        if response.status_code != 200:
            raise HeraldError.from_response(response)
        answer = TokenResponse.from_dict(response.json())
        lifetime = float(answer.expires_in)
        self._token = answer.access_token
        self._refresh_at = started + lifetime - min(self._refresh_margin, lifetime / 10)
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(stale=token)}"
            yield request
