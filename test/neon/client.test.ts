import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { neonApi, neonCall } from "../../dynamic-providers/neon/client";

/** A Neon API that accepts connections and never answers (a stalled proxy or load balancer). */
let silent: http.Server;
const saved = { url: process.env.NEON_API_URL, key: process.env.NEON_API_KEY };

beforeAll(async () => {
  silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  process.env.NEON_API_URL = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/v2`;
  process.env.NEON_API_KEY = "napi_silent_server_probe";
});

afterAll(async () => {
  process.env.NEON_API_URL = saved.url;
  process.env.NEON_API_KEY = saved.key;
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("neon client", () => {
  it("bounds every request: axios alone would wait forever on an API that never answers", () => {
    expect(neonApi().instance.defaults.timeout).toBeGreaterThan(0);
  });

  it("a stalled call fails with a connection error naming the call, instead of hanging `pulumi up`", async () => {
    const started = Date.now();
    const error = await neonCall(() => neonApi({ timeoutMs: 300 }).getProject("misty-sound-1")).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Neon API GET \/projects\/misty-sound-1 failed: connection error \(timeout/);
    expect((error as Error).message).not.toContain("napi_silent_server_probe");
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 5_000);
});
