"""Retries for publishing: 429 and 503 (honouring Retry-After) and transport errors."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How publish calls retry.

    ``max_tries`` counts every attempt, the first included. Without a ``Retry-After`` header the
    delay before retry *n* is a random fraction of ``min(max_delay, base_delay * 2**(n-1))``; with
    one it is the header's value, at most ``max_delay``. Transport errors (connection refused or
    reset, timeouts) are retried too: the idempotency key makes that safe.
    """

    max_tries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_transport_errors: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, retry: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = retry_after(response)
            if after is not None:
                return min(after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))

    def send(self, attempt: Callable[[], httpx.Response]) -> httpx.Response:
        """Runs ``attempt`` until it answers something other than 429/503 or the tries run out;
        returns the last answer (or raises the last transport error)."""
        for tries in range(1, self.max_tries + 1):
            last = tries == self.max_tries
            try:
                response = attempt()
            except httpx.TransportError:
                if last or not self.retry_transport_errors:
                    raise
                self.sleep(self.delay(tries, None))
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            self.sleep(self.delay(tries, response))
        raise AssertionError("unreachable")  # pragma: no cover


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
