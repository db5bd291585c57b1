import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { retryingFetch } from "../../dynamic-providers/core/http";

const policy = { maxAttempts: 4, budgetMs: 10_000, baseDelayMs: 1, maxDelayMs: 2_000 };
let server: Server | undefined;

/** A loopback server answering from a script: one entry per request, "drop" destroys the socket. */
async function scripted(script: (number | "drop" | { status: 429; retryAfter: string })[]): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  server = createServer((request, response) => {
    hits.push(request.method ?? "");
    const step = script.shift() ?? 200;
    if (step === "drop") {
      request.socket.destroy();
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
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

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
});
