/** Offline checks of the hand-written layer (no server needed). */

import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";

import { HeraldApiError, paginate, retryDelayMs, unwrap, verifyWebhook, WebhookVerificationError } from "../src/index.js";

describe("verifyWebhook", () => {
  // The Standard Webhooks libraries' own test vector (secret, id, timestamp, body → v1 signature).
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"test": 2432232314}';
  const headers = {
    "Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "Webhook-Timestamp": "1614265330",
    "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };

  test("accepts the Standard Webhooks test vector and rejects a changed signature or body", () => {
    mock.timers.enable({ apis: ["Date"], now: 1614265330 * 1000 });
    try {
      assert.deepEqual(verifyWebhook(secret, headers, body), { test: 2432232314 });
      assert.deepEqual(verifyWebhook(secret, headers, Buffer.from(body)), { test: 2432232314 });
      const wrong = { ...headers, "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=" };
      assert.throws(() => verifyWebhook(secret, wrong, body), WebhookVerificationError);
      assert.throws(() => verifyWebhook(secret, headers, '{"test": 2432232315}'), WebhookVerificationError);
      // Several signatures (a rolled secret): any one that matches is enough.
      const several = { ...headers, "Webhook-Signature": `v1,AAAA ${headers["Webhook-Signature"]}` };
      assert.deepEqual(verifyWebhook(secret, several, body), { test: 2432232314 });
    } finally {
      mock.timers.reset();
    }
  });

  test("rejects a timestamp more than five minutes old", () => {
    mock.timers.enable({ apis: ["Date"], now: (1614265330 + 301) * 1000 });
    try {
      assert.throws(() => verifyWebhook(secret, headers, body), WebhookVerificationError);
    } finally {
      mock.timers.reset();
    }
  });
});

describe("retryDelayMs", () => {
  const answer = (retryAfter?: string) =>
    new Response(null, { status: 503, headers: retryAfter === undefined ? {} : { "Retry-After": retryAfter } });

  test("honours Retry-After in seconds, capped", () => {
    assert.equal(retryDelayMs(1, answer("2")), 2000);
    assert.equal(retryDelayMs(1, answer("0")), 0);
    assert.equal(retryDelayMs(1, answer("3600"), { maxDelayMs: 5000 }), 5000);
  });

  test("backs off exponentially within the cap without Retry-After", () => {
    for (const attempt of [1, 2, 3]) {
      const delay = retryDelayMs(attempt, answer(), { baseDelayMs: 100, maxDelayMs: 250 });
      const full = Math.min(100 * 2 ** (attempt - 1), 250);
      assert.ok(delay >= full / 2 && delay <= full, `${delay} within [${full / 2}, ${full}]`);
    }
  });
});

describe("paginate", () => {
  test("follows next_cursor, or the rel=next link when there is no cursor", async () => {
    const pages: Record<string, { items: number[]; nextCursor?: string; links?: { href: string; rel: string }[] }> = {
      first: { items: [1, 2], nextCursor: "c2" },
      c2: { items: [3], links: [{ rel: "next", href: "http://h/v1/x?page_size=2&cursor=c3" }] },
      c3: { items: [4], links: [] },
    };
    const asked: (string | undefined)[] = [];
    const seen: number[] = [];
    for await (const item of paginate(async (cursor) => {
      asked.push(cursor);
      const page = pages[cursor ?? "first"];
      assert.ok(page);
      return page;
    })) {
      seen.push(item);
    }
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(asked, [undefined, "c2", "c3"]);
  });
});

describe("unwrap", () => {
  test("throws HeraldApiError with the error body's name and message", () => {
    const response = new Response("", { status: 409 });
    const body = { name: "RESOURCE_CONFLICT", message: "taken", debug_id: "req_1", details: [], links: [] };
    assert.throws(
      () => unwrap({ error: body, response }),
      (e: unknown) =>
        e instanceof HeraldApiError &&
        e.status === 409 &&
        e.name === "RESOURCE_CONFLICT" &&
        e.message === "taken" &&
        e.debugId === "req_1",
    );
    assert.deepEqual(unwrap({ data: { ok: 1 }, response: new Response("", { status: 200 }) }), { ok: 1 });
  });
});
