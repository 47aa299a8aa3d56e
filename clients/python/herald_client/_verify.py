"""Verifying a received Standard Webhooks delivery, with the official `standardwebhooks` library."""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any, Protocol

from standardwebhooks import Webhook, WebhookVerificationError


class _HeaderItems(Protocol):
    def items(self) -> Any: ...


def verify_webhook(secret: str, headers: Mapping[str, str] | _HeaderItems, body: bytes | str) -> Any:
    """Checks a delivery's ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers
    against its raw body and returns the parsed JSON payload.

    ``secret`` is the webhook's ``whsec_…`` secret; ``headers`` anything with ``.items()`` (a dict,
    ``http.server``'s message, a framework's header object; names in any case); ``body`` the bytes
    exactly as received. Raises :class:`WebhookVerificationError` for a missing header, a timestamp
    more than five minutes away, or no matching signature.
    """
    plain = {str(name): str(value) for name, value in headers.items()}
    try:
        return Webhook(secret).verify(body, plain)
    except WebhookVerificationError:
        raise
    except (ValueError, binascii.Error) as error:  # a malformed signature entry or base64
        raise WebhookVerificationError(f"malformed signature header: {error}") from error


__all__ = ["WebhookVerificationError", "verify_webhook"]
