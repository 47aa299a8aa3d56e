/** The client against a real `herald serve` (HERALD_BIN) and local receivers on 127.0.0.1. */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import {
  type Event,
  Herald,
  HeraldApiError,
  type HeraldMerchant,
  type HeraldOperator,
  unwrap,
  verifyWebhook,
  WebhookVerificationError,
} from "../src/index.js";
import {
  type Captured,
  heraldBinary,
  type LocalServer,
  recordingFetch,
  type RunningHerald,
  startHerald,
  startReceiver,
  startScriptedProxy,
  waitFor,
} from "./support.js";

test("HERALD_BIN names a herald binary", () => {
  // Without one every test below is cancelled; this makes the run fail, not just skip.
  assert.ok(heraldBinary());
});

const EVENT_TYPE = "client.test.created";

interface Merchant {
  accountId: string;
  clientId: string;
  clientSecret: string;
}

async function setUp(operator: HeraldOperator): Promise<Merchant> {
  unwrap(
    await operator.api.PUT("/v1/event-types/{name}", {
      params: { path: { name: EVENT_TYPE } },
      body: { description: "Published by the TypeScript client tests" },
    }),
  );
  const account = unwrap(await operator.api.POST("/v1/accounts", { body: { name: "TypeScript client tests" } }));
  assert.ok(account.client_secret, "the create answer shows the client secret");
  return { accountId: account.id, clientId: account.client_id, clientSecret: account.client_secret };
}

function deliveriesOf(receiver: LocalServer<Captured>, eventId: string): Captured[] {
  return receiver.seen.filter((c) => c.headers["webhook-id"] === eventId);
}

describe("Herald TypeScript client", () => {
  let herald: RunningHerald;
  let receiver: LocalServer<Captured>;
  let operator: HeraldOperator;
  let merchant: HeraldMerchant;
  let account: Merchant;
  let webhookId: string;
  let secret: string;

  const event = (n: number) => ({
    account_id: account.accountId,
    event_type: EVENT_TYPE,
    resource: { id: `res_${n}`, amount: n, note: "héllo ✓" },
  });

  before(async () => {
    herald = await startHerald();
    receiver = await startReceiver();
    operator = Herald.operator({ baseUrl: herald.baseUrl, adminToken: herald.adminToken });
    account = await setUp(operator);
    merchant = Herald.merchant({ baseUrl: herald.baseUrl, clientId: account.clientId, clientSecret: account.clientSecret });
  });

  after(async () => {
    await receiver?.close();
    await herald?.stop();
  });

  test("creates a webhook through the generated API", async () => {
    const { data, response } = await merchant.api.POST("/v1/notifications/webhooks", {
      body: { url: `${receiver.url}/hook`, event_types: [{ name: "*" }] },
    });
    assert.equal(response.status, 201);
    assert.ok(data);
    assert.match(data.id, /^wh_/);
    assert.match(data.secret ?? "", /^whsec_/);
    webhookId = data.id;
    secret = data.secret ?? "";
    const shown = unwrap(
      await merchant.api.GET("/v1/notifications/webhooks/{id}", { params: { path: { id: webhookId } } }),
    );
    assert.equal(shown.url, `${receiver.url}/hook`);
    const listed = [];
    for await (const webhook of merchant.webhooks()) listed.push(webhook.id);
    assert.deepEqual(listed, [webhookId]);
  });

  test("publishes one event, which is delivered and verifies", async () => {
    const published = await operator.publish(event(1));
    assert.match(published.id, /^evt_/);
    assert.equal(published.event_type, EVENT_TYPE);
    assert.deepEqual(published.resource, event(1).resource);

    const [delivery] = await waitFor("the delivery", () => {
      const found = deliveriesOf(receiver, published.id);
      return found.length > 0 && found;
    });
    assert.ok(delivery);
    const payload = verifyWebhook<Event>(secret, delivery.headers, delivery.body);
    assert.equal(payload.id, published.id);
    assert.deepEqual(payload.resource, event(1).resource);

    // The same check from a fetch-style Headers object and the body as text.
    const headers = new Headers();
    for (const [name, value] of Object.entries(delivery.headers)) if (typeof value === "string") headers.set(name, value);
    assert.equal(verifyWebhook<Event>(secret, headers, delivery.body.toString("utf8")).id, published.id);

    const tampered = Buffer.from(delivery.body.toString("utf8").replace('"amount":1', '"amount":2'));
    assert.notDeepEqual(tampered, delivery.body);
    assert.throws(() => verifyWebhook(secret, delivery.headers, tampered), WebhookVerificationError);
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    assert.throws(() => verifyWebhook(otherSecret, delivery.headers, delivery.body), WebhookVerificationError);
  });

  test("publishes a batch, in order", async () => {
    const events = await operator.publishBatch([event(11), event(12), event(13)]);
    assert.equal(events.length, 3);
    assert.deepEqual(
      events.map((e) => e.resource["id"]),
      ["res_11", "res_12", "res_13"],
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 3);
  });

  test("lists events and pages through all of them one at a time", async () => {
    const mine = (await operator.publishBatch([event(21), event(22), event(23)])).map((e) => e.id);

    const first = await merchant.api.GET("/v1/notifications/webhooks-events", { params: { query: { page_size: 1 } } });
    const page = unwrap(first);
    assert.equal(page.events.length, 1);
    assert.equal(page.count, 1);
    assert.ok(page.next_cursor || page.links.some((l) => l.rel === "next"), "a next page is announced");

    const all = unwrap(
      await merchant.api.GET("/v1/notifications/webhooks-events", { params: { query: { page_size: 500 } } }),
    ).events.map((e) => e.id);
    assert.ok(all.length >= 3);

    const paged: string[] = [];
    for await (const e of merchant.events({ page_size: 1 })) paged.push(e.id);
    assert.deepEqual(paged, all, "the iterator yields every event once, in the list's order");
    for (const id of mine) assert.ok(paged.includes(id));
  });

  test("an idempotency key makes a repeated publish return the first event", async () => {
    const key = randomUUID();
    const once = await operator.publish(event(31), { idempotencyKey: key });
    const twice = await operator.publish(event(31), { idempotencyKey: key });
    assert.equal(twice.id, once.id);

    const batchKey = randomUUID();
    const a = await operator.publishBatch([event(32), event(33)], { idempotencyKey: batchKey });
    const b = await operator.publishBatch([event(32), event(33)], { idempotencyKey: batchKey });
    assert.deepEqual(
      b.map((e) => e.id),
      a.map((e) => e.id),
    );

    // Without a key, each publish is a new event.
    const c = await operator.publish(event(34));
    const d = await operator.publish(event(34));
    assert.notEqual(c.id, d.id);
  });

  test("resends an event: the receiver gets one more delivery of the same bytes", async () => {
    const published = await operator.publish(event(41));
    await waitFor("the first delivery", () => deliveriesOf(receiver, published.id).length === 1);
    const { data, response } = await merchant.api.POST("/v1/notifications/webhooks-events/{id}/resend", {
      params: { path: { id: published.id } },
      body: {},
    });
    assert.equal(response.status, 202);
    assert.equal(data?.id, published.id);
    const both = await waitFor("the resent delivery", () => {
      const found = deliveriesOf(receiver, published.id);
      return found.length >= 2 && found;
    });
    assert.equal(both.length, 2);
    const [first, second] = both;
    assert.ok(first && second);
    assert.deepEqual(second.body, first.body);
    assert.equal(verifyWebhook<Event>(secret, second.headers, second.body).id, published.id);
  });

  test("an error answer throws HeraldApiError with the body's name and message, without retrying", async () => {
    const recorder = recordingFetch();
    const client = Herald.operator({ baseUrl: herald.baseUrl, adminToken: herald.adminToken, fetch: recorder.fetch });
    const error = await client.publish({ ...event(51), event_type: "no.such.type" }).then(
      () => assert.fail("publishing an unknown type must fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HeraldApiError);
    assert.equal(error.status, 422);
    assert.equal(error.name, "UNKNOWN_EVENT_TYPE");
    assert.ok(error.message.length > 0);
    assert.match(error.debugId ?? "", /^req_/);
    assert.equal(recorder.log.length, 1);

    const notFound = await merchant.api.GET("/v1/notifications/webhooks-events/{id}", {
      params: { path: { id: "evt_00000000000000000000000000" } },
    });
    assert.throws(
      () => unwrap(notFound),
      (e: unknown) => e instanceof HeraldApiError && e.status === 404 && e.name === "RESOURCE_NOT_FOUND",
    );
  });

  test("publish retries a 503 after Retry-After with the same Idempotency-Key", async () => {
    const proxy = await startScriptedProxy(herald.baseUrl, [
      { status: 503, headers: { "Retry-After": "1" }, body: { name: "SERVICE_UNAVAILABLE", message: "busy" } },
      "forward",
    ]);
    try {
      const client = Herald.operator({ baseUrl: proxy.url, adminToken: herald.adminToken });
      const started = Date.now();
      const published = await client.publish(event(61));
      const elapsed = Date.now() - started;
      assert.match(published.id, /^evt_/);
      assert.equal(proxy.seen.length, 2);
      const [first, second] = proxy.seen;
      assert.ok(first && second);
      assert.equal(first.url, "/v1/events");
      assert.equal(second.url, "/v1/events");
      const key = first.headers["idempotency-key"];
      assert.ok(typeof key === "string" && key.length > 0, "an Idempotency-Key is sent");
      assert.equal(second.headers["idempotency-key"], key);
      assert.deepEqual(second.body, first.body);
      assert.ok(elapsed >= 950, `waited ${elapsed} ms, Retry-After asked for 1 s`);

      // The key it chose is the one Herald stored: publishing again with it answers the same event.
      const again = await operator.publish(event(61), { idempotencyKey: key });
      assert.equal(again.id, published.id);
    } finally {
      await proxy.close();
    }
  });

  test("publishBatch retries a 429 after Retry-After with the same Idempotency-Key", async () => {
    const proxy = await startScriptedProxy(herald.baseUrl, [
      { status: 429, headers: { "Retry-After": "1" }, body: { name: "RATE_LIMIT_REACHED", message: "slow down" } },
      "forward",
    ]);
    try {
      const client = Herald.operator({ baseUrl: proxy.url, adminToken: herald.adminToken });
      const started = Date.now();
      const events = await client.publishBatch([event(71), event(72)], { idempotencyKey: "batch-key-71" });
      assert.ok(Date.now() - started >= 950);
      assert.equal(events.length, 2);
      assert.equal(proxy.seen.length, 2);
      for (const request of proxy.seen) {
        assert.equal(request.url, "/v1/events/batch");
        assert.equal(request.headers["idempotency-key"], "batch-key-71");
      }
    } finally {
      await proxy.close();
    }
  });

  test("publish gives up after the configured number of tries", async () => {
    const proxy = await startScriptedProxy(herald.baseUrl, [
      { status: 503, headers: { "Retry-After": "0" }, body: { name: "SERVICE_UNAVAILABLE", message: "still busy" } },
    ]);
    try {
      const client = Herald.operator({
        baseUrl: proxy.url,
        adminToken: herald.adminToken,
        retry: { maxAttempts: 3 },
      });
      await assert.rejects(
        client.publish(event(81)),
        (e: unknown) =>
          e instanceof HeraldApiError && e.status === 503 && e.name === "SERVICE_UNAVAILABLE" && e.message === "still busy",
      );
      assert.equal(proxy.seen.length, 3);
      assert.equal(new Set(proxy.seen.map((r) => r.headers["idempotency-key"])).size, 1);
    } finally {
      await proxy.close();
    }
  });

  test("a revoked access token is replaced transparently after a 401", async () => {
    const recorder = recordingFetch();
    const client = Herald.merchant({
      baseUrl: herald.baseUrl,
      clientId: account.clientId,
      clientSecret: account.clientSecret,
      fetch: recorder.fetch,
    });
    unwrap(await client.api.GET("/v1/notifications/webhooks"));
    const first = await client.accessToken();
    assert.deepEqual(
      recorder.log.map((r) => [r.method, r.path, r.status]),
      [
        ["POST", "/v1/oauth2/token", 200],
        ["GET", "/v1/notifications/webhooks", 200],
      ],
      "the token is fetched lazily, once",
    );
    unwrap(await client.api.GET("/v1/notifications/webhooks"));
    assert.equal(recorder.log.filter((r) => r.path === "/v1/oauth2/token").length, 1, "and cached");

    const { response } = await client.api.POST("/v1/oauth2/token/terminate", {
      body: { token: first },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(response.status, 204);

    recorder.log.length = 0;
    const webhooks = unwrap(await client.api.GET("/v1/notifications/webhooks")).webhooks;
    assert.equal(webhooks.length, 1);
    assert.deepEqual(
      recorder.log.map((r) => [r.method, r.path, r.status]),
      [
        ["GET", "/v1/notifications/webhooks", 401],
        ["POST", "/v1/oauth2/token", 200],
        ["GET", "/v1/notifications/webhooks", 200],
      ],
    );
    const second = await client.accessToken();
    assert.notEqual(second, first);
    assert.equal(recorder.log[2]?.authorization, `Bearer ${second}`);
  });
});

describe("token expiry", () => {
  let herald: RunningHerald;

  before(async () => {
    herald = await startHerald({ HERALD_TOKEN_LIFETIME: "2s" });
  });

  after(async () => {
    await herald?.stop();
  });

  test("the access token is refreshed shortly before expires_in runs out", async () => {
    const operator = Herald.operator({ baseUrl: herald.baseUrl, adminToken: herald.adminToken });
    const account = await setUp(operator);
    const recorder = recordingFetch();
    const client = Herald.merchant({
      baseUrl: herald.baseUrl,
      clientId: account.clientId,
      clientSecret: account.clientSecret,
      fetch: recorder.fetch,
    });
    unwrap(await client.api.GET("/v1/notifications/webhooks"));
    const first = await client.accessToken();
    await sleep(1900); // still valid on the server for another 0.1 s, but inside the refresh margin
    unwrap(await client.api.GET("/v1/notifications/webhooks"));
    const second = await client.accessToken();
    assert.notEqual(second, first);
    assert.deepEqual(
      recorder.log.map((r) => [r.method, r.path, r.status]),
      [
        ["POST", "/v1/oauth2/token", 200],
        ["GET", "/v1/notifications/webhooks", 200],
        ["POST", "/v1/oauth2/token", 200],
        ["GET", "/v1/notifications/webhooks", 200],
      ],
      "refreshed before the call, not after a 401",
    );
  });
});
