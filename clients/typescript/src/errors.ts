/** Errors thrown by the hand-written layer. */

/** A detail entry of Herald's (PayPal-shaped) error body. */
export interface ErrorDetail {
  field?: string | null;
  value?: string | null;
  location?: string | null;
  issue?: string | null;
  description?: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * An answer from Herald that is not a success. `name` and `message` come from the error body
 * (`{name, message, debug_id, details}`), `status` is the HTTP status.
 */
export class HeraldApiError extends Error {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Herald's `debug_id` (the same as the answer's `Request-Id` header), when the body carried one. */
  readonly debugId: string | undefined;
  /** The body's `details[]`, empty when there were none. */
  readonly details: ErrorDetail[];
  /** The parsed body as received (or its text when it was not JSON). */
  readonly body: unknown;
  /** The raw response, when there was one. */
  readonly response: Response | undefined;

  constructor(status: number, body: unknown, response?: Response) {
    const fields = isRecord(body) ? body : {};
    const message =
      typeof fields["message"] === "string" ? fields["message"] : `Herald answered HTTP ${status}`;
    super(message);
    this.name = typeof fields["name"] === "string" ? fields["name"] : `HTTP_${status}`;
    this.status = status;
    this.debugId =
      typeof fields["debug_id"] === "string"
        ? fields["debug_id"]
        : (response?.headers.get("request-id") ?? undefined);
    this.details = Array.isArray(fields["details"]) ? (fields["details"] as ErrorDetail[]) : [];
    this.body = body;
    this.response = response;
  }
}

/** What openapi-fetch resolves to: either `data` or `error`, always `response`. */
export interface FetchResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * Returns `data` of a generated-API call, or throws {@link HeraldApiError} when Herald answered an error.
 *
 * ```ts
 * const webhook = unwrap(await merchant.api.GET("/v1/notifications/webhooks/{id}", { params: { path: { id } } }));
 * ```
 */
export function unwrap<R extends FetchResult>(result: R): Exclude<R["data"], undefined> {
  if (result.error !== undefined || !result.response.ok) {
    throw new HeraldApiError(result.response.status, result.error, result.response);
  }
  return result.data as Exclude<R["data"], undefined>;
}
