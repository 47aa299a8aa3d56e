/** The operator and merchant clients: the generated API plus publishing, OAuth and paging. */

import { randomUUID } from "node:crypto";

import createClient, { type Client } from "openapi-fetch";

import { type FetchLike, merchantFetch, TokenSource } from "./auth.js";
import { unwrap } from "./errors.js";
import type { components, operations, paths } from "./generated/schema.js";
import { type Page, paginate } from "./paging.js";
import { type RetryOptions, withRetry } from "./retry.js";

type Schemas = components["schemas"];
export type Event = Schemas["Envelope"];
export type PublishEvent = Schemas["PublishEvent"];
export type Webhook = Schemas["WebhookView"];
export type Account = Schemas["AccountView"];
export type Delivery = Schemas["DeliveryView"];
export type RequestLog = Schemas["RequestLogView"];

type QueryOf<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** Filters of `GET /v1/notifications/webhooks-events` (`cursor` is managed by the iterator). */
export type EventQuery = Omit<QueryOf<operations["list_events"]>, "cursor">;
export type DeliveryQuery = Omit<QueryOf<operations["list_deliveries"]>, "cursor">;
export type RequestLogQuery = Omit<QueryOf<operations["list_request_logs"]>, "cursor">;
export type AccountQuery = Omit<QueryOf<operations["list_accounts"]>, "cursor">;

export interface ClientOptions {
  /** Where Herald listens, e.g. `https://herald.example.com` (no `/v1`). */
  baseUrl: string;
  /** A `fetch` to send requests with (default: the global one). */
  fetch?: FetchLike;
  /** Retries of publish calls on 429/503 (default: 5 tries, waits capped at 30 s). */
  retry?: RetryOptions;
}

export interface PublishOptions {
  /** Sent as `Idempotency-Key`; a random UUID when not given. The same key is used on every retry. */
  idempotencyKey?: string;
}

function defaultFetch(request: Request): Promise<Response> {
  return globalThis.fetch(request);
}

/** The operator's client (admin token): publishing, accounts and the event-type catalog. */
export class HeraldOperator {
  /** Every operation of the API, typed from the OpenAPI document (openapi-fetch). */
  readonly api: Client<paths>;
  readonly #retry: RetryOptions;

  constructor(options: ClientOptions & { adminToken: string }) {
    this.api = createClient<paths>({
      baseUrl: options.baseUrl,
      fetch: options.fetch ?? defaultFetch,
      headers: { Authorization: `Bearer ${options.adminToken}` },
    });
    this.#retry = options.retry ?? {};
  }

  /** `POST /v1/events`, retried on 429/503 with one idempotency key. Resolves when Herald has committed it. */
  async publish(event: PublishEvent, options: PublishOptions = {}): Promise<Event> {
    const key = options.idempotencyKey ?? randomUUID();
    return withRetry(
      () => this.api.POST("/v1/events", { body: event, params: { header: { "Idempotency-Key": key } } }),
      this.#retry,
    );
  }

  /** `POST /v1/events/batch` (all or nothing), retried like {@link publish}. Resolves to the events in order. */
  async publishBatch(events: PublishEvent[], options: PublishOptions = {}): Promise<Event[]> {
    const key = options.idempotencyKey ?? randomUUID();
    const accepted = await withRetry(
      () => this.api.POST("/v1/events/batch", { body: { events }, params: { header: { "Idempotency-Key": key } } }),
      this.#retry,
    );
    return accepted.events;
  }

  /** Every merchant account, page after page. */
  accounts(query: AccountQuery = {}): AsyncGenerator<Account> {
    return paginate(async (cursor): Promise<Page<Account>> => {
      const page = unwrap(await this.api.GET("/v1/accounts", { params: { query: { ...query, cursor } } }));
      return { items: page.accounts, nextCursor: page.next_cursor, links: page.links };
    });
  }
}

/** A merchant's client (client id and secret, exchanged for an OAuth access token as needed). */
export class HeraldMerchant {
  /** Every operation of the API, typed from the OpenAPI document (openapi-fetch), authenticated. */
  readonly api: Client<paths>;
  readonly #tokens: TokenSource;

  constructor(options: ClientOptions & { clientId: string; clientSecret: string }) {
    const fetch = options.fetch ?? defaultFetch;
    this.#tokens = new TokenSource(options.baseUrl, options.clientId, options.clientSecret, fetch);
    this.api = createClient<paths>({ baseUrl: options.baseUrl, fetch: merchantFetch(this.#tokens, fetch) });
  }

  /** The current access token (fetched if there is none or it is about to expire). */
  accessToken(): Promise<string> {
    return this.#tokens.get();
  }

  /** The account's events, newest first, following the next cursor until the last page. */
  events(query: EventQuery = {}): AsyncGenerator<Event> {
    return paginate(async (cursor): Promise<Page<Event>> => {
      const page = unwrap(
        await this.api.GET("/v1/notifications/webhooks-events", { params: { query: { ...query, cursor } } }),
      );
      return { items: page.events, nextCursor: page.next_cursor, links: page.links };
    });
  }

  /** The account's webhooks (`GET /v1/notifications/webhooks` answers them all in one list; it does not page). */
  async *webhooks(): AsyncGenerator<Webhook> {
    yield* unwrap(await this.api.GET("/v1/notifications/webhooks")).webhooks;
  }

  /** One webhook's deliveries, page after page. */
  deliveries(webhookId: string, query: DeliveryQuery = {}): AsyncGenerator<Delivery> {
    return paginate(async (cursor): Promise<Page<Delivery>> => {
      const page = unwrap(
        await this.api.GET("/v1/notifications/webhooks/{id}/deliveries", {
          params: { path: { id: webhookId }, query: { ...query, cursor } },
        }),
      );
      return { items: page.deliveries, nextCursor: page.next_cursor, links: page.links };
    });
  }

  /** The merchant API requests made with this environment's keys, page after page. */
  requestLogs(query: RequestLogQuery = {}): AsyncGenerator<RequestLog> {
    return paginate(async (cursor): Promise<Page<RequestLog>> => {
      const page = unwrap(await this.api.GET("/v1/request-logs", { params: { query: { ...query, cursor } } }));
      return { items: page.request_logs, nextCursor: page.next_cursor, links: page.links };
    });
  }
}

/** Entry points: `Herald.operator({...})` and `Herald.merchant({...})`. */
export const Herald = {
  operator(options: ClientOptions & { adminToken: string }): HeraldOperator {
    return new HeraldOperator(options);
  },
  merchant(options: ClientOptions & { clientId: string; clientSecret: string }): HeraldMerchant {
    return new HeraldMerchant(options);
  },
};
