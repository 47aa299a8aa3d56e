/** Bounded retries with capped backoff that honour `Retry-After`. */

import { setTimeout as sleep } from "node:timers/promises";

import { type FetchResult, unwrap } from "./errors.js";

export interface RetryOptions {
  /** Total number of tries, the first included (default 5). */
  maxAttempts?: number;
  /** Backoff before the second try when the answer has no `Retry-After`, doubled each time (default 500 ms). */
  baseDelayMs?: number;
  /** Upper bound of any wait, `Retry-After` included (default 30 s). */
  maxDelayMs?: number;
}

const RETRYABLE = new Set([429, 503]);

/** How long to wait before try number `attempt + 1`, given the answer to try `attempt` (1-based). */
export function retryDelayMs(attempt: number, response: Response | undefined, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const header = response?.headers.get("retry-after")?.trim();
  if (header) {
    if (/^\d+$/.test(header)) {
      return Math.min(Number(header) * 1000, cap);
    }
    const at = Date.parse(header);
    if (!Number.isNaN(at)) {
      return Math.min(Math.max(at - Date.now(), 0), cap);
    }
  }
  const backoff = Math.min(base * 2 ** (attempt - 1), cap);
  // Jitter in [backoff/2, backoff] so that many clients do not retry in step.
  return backoff / 2 + Math.random() * (backoff / 2);
}

/**
 * Calls `send` until Herald answers something other than 429/503 (or the connection fails), at most
 * `maxAttempts` times, then returns the data or throws {@link HeraldApiError}. `send` must be safe to
 * repeat: the callers pass the same `Idempotency-Key` on every try.
 */
export async function withRetry<R extends FetchResult>(
  send: () => Promise<R>,
  options: RetryOptions = {},
): Promise<Exclude<R["data"], undefined>> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  for (let attempt = 1; ; attempt++) {
    let result: R;
    try {
      result = await send();
    } catch (error) {
      // A connection error: the request may or may not have arrived, which the idempotency key covers.
      if (attempt >= maxAttempts || !(error instanceof TypeError)) {
        throw error;
      }
      await sleep(retryDelayMs(attempt, undefined, options));
      continue;
    }
    if (RETRYABLE.has(result.response.status) && attempt < maxAttempts) {
      await sleep(retryDelayMs(attempt, result.response, options));
      continue;
    }
    return unwrap(result);
  }
}
