"""The error raised for every non-2xx answer."""

from __future__ import annotations

import json
from typing import Any

import httpx


class HeraldError(Exception):
    """A call answered with a non-2xx status.

    Herald's error bodies have PayPal's shape: ``{name, message, debug_id, details, links}``. The
    fields are copied here when the body has them; an answer that is not JSON (from a proxy, say)
    still raises this error, with ``name`` set to ``HTTP_<status>``.
    """

    def __init__(
        self,
        status: int,
        name: str,
        message: str,
        *,
        debug_id: str | None = None,
        details: list[dict[str, Any]] | None = None,
        body: Any = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message
        self.debug_id = debug_id
        self.details = details or []
        self.body = body
        self.headers = headers if headers is not None else httpx.Headers()

    @property
    def request_id(self) -> str | None:
        """The ``Request-Id`` header of the answer (the same value as ``debug_id``)."""
        return self.headers.get("request-id") or self.debug_id

    @classmethod
    def from_response(cls, response: httpx.Response) -> HeraldError:
        body: Any
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = response.content.decode("utf-8", errors="replace")
        if isinstance(body, dict) and isinstance(body.get("name"), str):
            return cls(
                response.status_code,
                body["name"],
                str(body.get("message", "")),
                debug_id=body.get("debug_id"),
                details=body.get("details") if isinstance(body.get("details"), list) else None,
                body=body,
                headers=response.headers,
            )
        text = body if isinstance(body, str) else response.reason_phrase
        return cls(
            response.status_code, f"HTTP_{response.status_code}", text or "", body=body, headers=response.headers
        )
