/** Test support: a real `herald serve`, a receiver that captures deliveries, and small local servers. */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface RunningHerald {
  baseUrl: string;
  adminToken: string;
  output(): string;
  stop(): Promise<void>;
}

/** The herald binary named by HERALD_BIN; a missing one fails the tests instead of skipping them. */
export function heraldBinary(): string {
  const bin = process.env["HERALD_BIN"];
  if (!bin) {
    throw new Error("HERALD_BIN is not set: point it at a built `herald` binary to run these tests");
  }
  if (!existsSync(bin)) {
    throw new Error(`HERALD_BIN=${bin} does not exist`);
  }
  return bin;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `herald serve` on a free port with a fresh data directory; resolves once /healthz answers 200. */
export async function startHerald(env: Record<string, string> = {}): Promise<RunningHerald> {
  const bin = heraldBinary();
  const dataDir = mkdtempSync(join(tmpdir(), "herald-client-ts-"));
  const port = await freePort();
  const adminToken = randomBytes(24).toString("hex");
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("HERALD_")));
  const child: ChildProcess = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], {
    env: {
      ...inherited,
      HERALD_ADMIN_TOKEN: adminToken,
      HERALD_ALLOW_SUBNETS: "127.0.0.0/8",
      HERALD_RETRY_SCHEDULE: "1s,1s,1s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`herald exited before it was healthy:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`herald did not become healthy within 60 s:\n${output}`);
    }
    await sleep(100);
  }
  return { baseUrl, adminToken, output: () => output, stop };
}

export interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface LocalServer<T> {
  url: string;
  seen: T[];
  close(): Promise<void>;
}

async function listen<T>(
  seen: T[],
  handler: (request: IncomingMessage, body: Buffer, response: ServerResponse) => Promise<void> | void,
): Promise<LocalServer<T>> {
  const server: Server = createServer((request, response) => {
    readBody(request)
      .then((body) => handler(request, body, response))
      .catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A webhook receiver that answers 200 and keeps every request (headers and raw body). */
export function startReceiver(): Promise<LocalServer<Captured>> {
  const seen: Captured[] = [];
  return listen(seen, (request, body, response) => {
    seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
    response.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
}

export type Scripted = { status: number; headers?: Record<string, string>; body?: unknown } | "forward";

/**
 * A server in front of Herald: each request takes the next scripted answer (the last one repeats);
 * "forward" passes the request on to Herald and returns its answer.
 */
export function startScriptedProxy(target: string, script: Scripted[]): Promise<LocalServer<Captured>> {
  const seen: Captured[] = [];
  let next = 0;
  return listen(seen, async (request, body, response) => {
    seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
    const step = script[Math.min(next++, script.length - 1)] ?? "forward";
    if (step !== "forward") {
      response
        .writeHead(step.status, { "content-type": "application/json", ...step.headers })
        .end(step.body === undefined ? "" : JSON.stringify(step.body));
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || ["host", "connection", "content-length"].includes(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const method = request.method ?? "GET";
    const answer = await fetch(target + (request.url ?? "/"), {
      method,
      headers,
      ...(method === "GET" || method === "HEAD" ? {} : { body }),
    });
    const out = Buffer.from(await answer.arrayBuffer());
    const copied: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!["content-length", "connection", "transfer-encoding", "keep-alive"].includes(name)) copied[name] = value;
    });
    response.writeHead(answer.status, copied).end(out);
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Wraps `fetch` to record every request (method, path, headers) and the status answered. */
export function recordingFetch(): {
  fetch: (request: Request) => Promise<Response>;
  log: { method: string; path: string; authorization: string | null; status: number }[];
} {
  const log: { method: string; path: string; authorization: string | null; status: number }[] = [];
  return {
    log,
    fetch: async (request: Request) => {
      const entry = {
        method: request.method,
        path: new URL(request.url).pathname,
        authorization: request.headers.get("authorization"),
        status: 0,
      };
      log.push(entry);
      const response = await fetch(request);
      entry.status = response.status;
      return response;
    },
  };
}
