"""Herald's Python client.

- :class:`OperatorClient` (admin token): publish events, alone or in batches, with automatic
  idempotency keys and retries.
- :class:`MerchantClient` (client id and secret): OAuth tokens handled for you, iterators over
  every page of events, webhooks and deliveries.
- :func:`verify_webhook`: check a received delivery's Standard Webhooks signature.

Every operation of the HTTP API is in the generated package :mod:`herald_client.generated`
(``generated.api.<tag>.<operation>`` and ``generated.models``); run one with a client's
:meth:`~Herald.call`, or pass the client's ``api`` as ``client=`` to it.
"""

from ._client import Herald, MerchantClient, OperatorClient
from ._errors import HeraldError
from ._retry import RetryPolicy
from ._verify import WebhookVerificationError, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "Herald",
    "HeraldError",
    "MerchantClient",
    "OperatorClient",
    "RetryPolicy",
    "WebhookVerificationError",
    "verify_webhook",
]
