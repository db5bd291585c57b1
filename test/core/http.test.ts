import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { attemptsHeader, retryingFetch } from "../../dynamic-providers/core/http";
import { isConnectionError } from "../../dynamic-providers/core/retry";

const policy = { maxAttempts: 4, budgetMs: 10_000, baseDelayMs: 1, maxDelayMs: 2_000 };
let server: Server | undefined;

/**
 * A loopback server answering from a script: one entry per request, "drop" destroys the socket, "hang"
 * never answers, "stall" sends the headers and never the end of the body.
 */
async function scripted(script: (number | "drop" | "hang" | "stall" | { status: 429; retryAfter: string })[]): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  server = createServer((request, response) => {
    hits.push(request.method ?? "");
    const step = script.shift() ?? 200;
    if (step === "drop") {
      request.socket.destroy();
    } else if (step === "hang") {
      return;
    } else if (step === "stall") {
      response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      response.write("{");
    } else if (typeof step === "object") {
      response.writeHead(429, { "retry-after": step.retryAfter, "content-type": "application/json" });
      response.end(`{"error":"rate limited"}`);
    } else {
      response.writeHead(step, { "content-type": "application/json" });
      response.end(`{"status":${step}}`);
    }
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`, hits };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** The error a call throws (it must throw). */
async function failure(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & Record<string, unknown>;
}

describe("retryingFetch", () => {
  it("retries 429 honouring Retry-After, for any method", async () => {
    const { url, hits } = await scripted([{ status: 429, retryAfter: "1" }, 200]);
    const started = Date.now();
    const response = await retryingFetch({ policy })(new Request(url, { method: "POST", body: "{}" }));
    expect(response.status).toBe(200);
    expect(hits).toEqual(["POST", "POST"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("retries 5xx and dropped connections on GET", async () => {
    const { url, hits } = await scripted([500, "drop", 503, 200]);
    const response = await retryingFetch({ policy })(new Request(url));
    expect(response.status).toBe(200);
    expect(hits).toHaveLength(4);
  });

  it("does not repeat a non-idempotent POST after a 500", async () => {
    const { url, hits } = await scripted([500, 200]);
    const response = await retryingFetch({ policy })(new Request(url, { method: "POST", body: "{}" }));
    expect(response.status).toBe(500);
    expect(hits).toEqual(["POST"]);
  });

  it("repeats a POST marked idempotent", async () => {
    const { url, hits } = await scripted([502, 200]);
    const response = await retryingFetch({ policy, idempotent: true })(new Request(url, { method: "POST", body: "{}" }));
    expect(response.status).toBe(200);
    expect(hits).toEqual(["POST", "POST"]);
  });

  it("returns the last answer when the attempts run out", async () => {
    const { url, hits } = await scripted([500, 500, 500, 500, 200]);
    const response = await retryingFetch({ policy })(new Request(url));
    expect(response.status).toBe(500);
    expect(hits).toHaveLength(4);
  });

  it("keeps retrying 429s past maxAttempts (they were refused, not run), never earlier than Retry-After", async () => {
    const { url, hits } = await scripted([...Array(6).fill({ status: 429, retryAfter: "0.05" }), 200]);
    const started = Date.now();
    const response = await retryingFetch({ policy })(new Request(url, { method: "POST", body: "{}" }));
    expect(response.status).toBe(200);
    expect(hits).toHaveLength(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(6 * 50);
  });

  it("names the call, the status and the attempts when a 429 outlasts the budget", async () => {
    const { url } = await scripted(Array(50).fill({ status: 429, retryAfter: "0.1" }));
    const response = await retryingFetch({ policy: { ...policy, budgetMs: 350 } })(new Request(url));
    expect(response.status).toBe(429);
    expect(Number(response.headers.get(attemptsHeader))).toBeGreaterThanOrEqual(3);
  });
});

describe("retryingFetch timeouts and transport errors", () => {
  const quick = { ...policy, budgetMs: 2_000 };

  it("gives up on a request that is never answered after the attempt timeout, naming the call", async () => {
    const { url, hits } = await scripted(["hang", "hang"]);
    const started = Date.now();
    const error = await failure(retryingFetch({ policy: quick, service: "Fly Machines", attemptTimeoutMs: 300 })(new Request(url)));
    expect(error.message).toBe("Fly Machines API GET /v1/x failed: no answer within 300ms (timeout)");
    expect(error).toMatchObject({ method: "GET", path: "/v1/x", failure: "timeout", code: "ETIMEDOUT" });
    expect(isConnectionError(error)).toBe(true);
    // Not repeated: the call ends at the timeout, not at the budget.
    expect(hits).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("times out a body that never ends", async () => {
    const { url } = await scripted(["stall"]);
    const error = await failure(retryingFetch({ policy: quick, service: "Fly Machines", attemptTimeoutMs: 300 })(new Request(url, { method: "PUT", body: "{}" })));
    expect(error.message).toBe("Fly Machines API PUT /v1/x failed: no answer within 300ms (timeout)");
  });

  it("keeps the whole call within its budget: an attempt never outlives it", async () => {
    const { url } = await scripted([{ status: 429, retryAfter: "0.2" }, "hang"]);
    const started = Date.now();
    const error = await failure(retryingFetch({ policy: { ...policy, budgetMs: 500 }, attemptTimeoutMs: 5_000 })(new Request(url)));
    // The second attempt only had what the budget left after the 429's wait: about 300 ms of 500.
    expect(error.message).toMatch(/^HTTP API GET \/v1\/x failed: no answer within \d+ms \(timeout\) \(after 2 attempts in [\d.]+m?s\)$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("names a dropped connection on a POST (not repeated: it may have acted)", async () => {
    const { url, hits } = await scripted(["drop", 200]);
    const error = await failure(retryingFetch({ policy: quick, service: "Fly Machines" })(new Request(url, { method: "POST", body: "{}" })));
    expect(error.message).toMatch(/^Fly Machines API POST \/v1\/x failed: connection reset: 127\.0\.0\.1:\d+ closed the connection before answering/);
    expect(error).toMatchObject({ failure: "connection reset" });
    expect(isConnectionError(error)).toBe(true);
    expect(hits).toEqual(["POST"]);
  });

  it("names a GET's dropped connections after its retries", async () => {
    const { url, hits } = await scripted(["drop", "drop", "drop", "drop"]);
    const error = await failure(retryingFetch({ policy: quick, service: "Fly Machines" })(new Request(url)));
    expect(error.message).toMatch(/^Fly Machines API GET \/v1\/x failed: connection reset: .* \(after 4 attempts in [\d.]+m?s\)$/);
    expect(hits).toHaveLength(4);
  });

  it("names a refused connection and a DNS failure", async () => {
    const { url } = await scripted([]);
    const port = new URL(url).port;
    server?.close();
    server = undefined;
    const refused = await failure(retryingFetch({ policy: { ...quick, maxAttempts: 1 }, service: "Fly Machines" })(new Request(`http://127.0.0.1:${port}/v1/apps`)));
    expect(refused.message).toBe(`Fly Machines API GET /v1/apps failed: connection refused by 127.0.0.1:${port} (ECONNREFUSED): is the API URL right?`);
    const dns = await failure(retryingFetch({ policy: quick, service: "Fly Machines" })(new Request("http://no-such-host.invalid/v1/apps")));
    expect(dns.message).toMatch(/^Fly Machines API GET \/v1\/apps failed: DNS lookup of no-such-host\.invalid failed \((ENOTFOUND|EAI_AGAIN)\)$/);
    expect(dns).toMatchObject({ failure: "dns" });
  });
});
