/** Merchant OAuth: a lazily fetched, cached access token that is refreshed before it runs out. */

import createClient from "openapi-fetch";

import { HeraldApiError } from "./errors.js";
import type { paths } from "./generated/schema.js";

export type FetchLike = (request: Request) => Promise<Response>;

export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`, "utf8").toString("base64")}`;
}

interface CachedToken {
  value: string;
  /** When (ms since the epoch) to fetch a new one, shortly before it expires. */
  refreshAt: number;
}

/** Longest head start taken on a token's expiry. */
const MAX_REFRESH_MARGIN_MS = 60_000;

export class TokenSource {
  readonly #tokenClient;
  readonly #authorization: string;
  #cached: CachedToken | undefined;
  #pending: Promise<string> | undefined;

  constructor(baseUrl: string, clientId: string, clientSecret: string, fetch: FetchLike) {
    this.#tokenClient = createClient<paths>({ baseUrl, fetch });
    this.#authorization = basicAuthorization(clientId, clientSecret);
  }

  /** Basic credentials, for the `/v1/oauth2/…` calls themselves. */
  get basicAuthorization(): string {
    return this.#authorization;
  }

  /** The cached token, or a new one when there is none or it is about to expire. */
  async get(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && Date.now() < cached.refreshAt) {
      return cached.value;
    }
    return this.refresh();
  }

  /** Drops `token` (if it is still the cached one) and fetches another. */
  async renew(token: string): Promise<string> {
    if (this.#cached?.value === token) {
      this.#cached = undefined;
    }
    return this.get();
  }

  /** Fetches a new token; concurrent callers share one request. */
  refresh(): Promise<string> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<string> {
    const started = Date.now();
    const { data, error, response } = await this.#tokenClient.POST("/v1/oauth2/token", {
      body: { grant_type: "client_credentials" },
      headers: {
        Authorization: this.#authorization,
        "Content-Type": "application/x-www-form-urlencoded",
      },
    });
    if (data === undefined) {
      throw new HeraldApiError(response.status, error, response);
    }
    const lifetimeMs = data.expires_in * 1000;
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, lifetimeMs / 10);
    this.#cached = { value: data.access_token, refreshAt: started + lifetimeMs - margin };
    return data.access_token;
  }
}

/**
 * A `fetch` for openapi-fetch that adds the merchant's credentials: Basic on `/v1/oauth2/…`, otherwise the
 * cached access token, fetched again once when Herald answers 401. A request that already carries an
 * `Authorization` header is sent as it is.
 */
export function merchantFetch(tokens: TokenSource, fetch: FetchLike): FetchLike {
  return async (request) => {
    if (request.headers.has("authorization")) {
      return fetch(request);
    }
    if (new URL(request.url).pathname.includes("/v1/oauth2/")) {
      request.headers.set("authorization", tokens.basicAuthorization);
      return fetch(request);
    }
    const again = request.clone();
    const token = await tokens.get();
    request.headers.set("authorization", `Bearer ${token}`);
    const response = await fetch(request);
    if (response.status !== 401) {
      return response;
    }
    // Revoked or expired early (a rolled secret ends its tokens): one more try with a fresh token.
    await response.body?.cancel();
    again.headers.set("authorization", `Bearer ${await tokens.renew(token)}`);
    return fetch(again);
  };
}
