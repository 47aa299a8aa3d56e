/** Verifying a received delivery with the Standard Webhooks library. */

import { Webhook, WebhookVerificationError } from "standardwebhooks";

export { WebhookVerificationError };

/** Request headers as Node's `http` module, `fetch` or a plain object hold them. */
export type DeliveryHeaders =
  | Headers
  | Record<string, string | string[] | undefined>
  | Iterable<readonly [string, string]>;

function normalize(headers: DeliveryHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Iterable<readonly [string, string | string[] | undefined]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers as Record<string, string | string[] | undefined>);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(" ") : value;
  }
  return out;
}

/**
 * Verifies a Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the
 * webhook's secret (`whsec_…`) over the raw body exactly as received, and returns the parsed payload.
 * Throws {@link WebhookVerificationError} when no signature matches or the timestamp is more than five
 * minutes away.
 */
export function verifyWebhook<T = unknown>(
  secret: string,
  headers: DeliveryHeaders,
  body: string | Uint8Array,
): T {
  const payload = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return new Webhook(secret).verify(payload, normalize(headers)) as T;
}
