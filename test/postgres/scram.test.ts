import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { parseScramVerifier, scramPasswordProblem, scramSaltBytes, scramVerifier } from "../../dynamic-providers/postgres/scram";
import { startPostgresCluster, type PostgresCluster } from "../emulators/postgres/cluster";

/** Made by PostgreSQL 15 itself: `SET password_encryption = 'scram-sha-256'; CREATE ROLE r PASSWORD 'pencil'`. */
const pencil = "SCRAM-SHA-256$4096:dWeu/zKyQPGmpxfGAe2H3w==$UvLQhBjb5eCxveApcRxPotNhpMR5LR7VLu1EPNFZRHw=:Sdu8E0KqkoL45wbkDzUfcAPz925HuQd1wVUKwrOTJp8=";

describe("scramVerifier", () => {
  it("equals PostgreSQL's verifier for the same password, salt and iterations (recorded vector)", () => {
    const parts = parseScramVerifier(pencil);
    expect(parts).toBeDefined();
    if (!parts) return;
    expect([parts.iterations, parts.salt.length, parts.storedKey.length, parts.serverKey.length]).toEqual([4096, 16, 32, 32]);
    expect(scramVerifier("pencil", parts.salt, parts.iterations)).toBe(pencil);
    expect(scramVerifier("pencil!", parts.salt, parts.iterations)).not.toBe(pencil);
  });

  it("draws a fresh 16-byte salt each time, with PostgreSQL's 4096 iterations", () => {
    const [first, second] = [scramVerifier("same password"), scramVerifier("same password")];
    expect(first).not.toBe(second);
    for (const verifier of [first, second]) {
      expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      expect(parseScramVerifier(verifier)?.salt.length).toBe(scramSaltBytes);
    }
  });

  it("only parses SCRAM-SHA-256 verifiers", () => {
    expect(parseScramVerifier("md5a3556571e93b0d20722ba62be61e8c2d")).toBeUndefined();
    expect(parseScramVerifier("pencil")).toBeUndefined();
  });

  it.each([
    ["", "must be a non-empty string"],
    ["pässword", "must be printable ASCII"],
    ["pass\nword", "must be printable ASCII"],
    ["pass\u0000word", "must be printable ASCII"],
    ["ｐａｓｓ", "must be printable ASCII"],
  ])("refuses %j (%s), never naming the password", (password, rule) => {
    expect(scramPasswordProblem(password)).toContain(rule);
    let message = "";
    try {
      scramVerifier(password);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(rule);
    if (password.length > 0) expect(message).not.toContain(password);
  });
});

describe("scramVerifier against a real server", () => {
  let cluster: PostgresCluster;
  let client: Client;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    client = new Client({ connectionString: cluster.adminUri() });
    await client.connect();
    await client.query("SET password_encryption = 'scram-sha-256'");
  });
  afterAll(async () => {
    await client?.end();
    await cluster?.stop();
  });

  const passwords = ["p", "pencil", "correct horse battery staple", `'"\\$@:/?#%+ ~{}`, "x".repeat(200)];

  it.each(passwords.map((password, index) => [index, password]))("password %i: the server's own verifier is the one computed here", async (index, password) => {
    const role = `vector_${index}`;
    // Plain text on purpose: the server computes the verifier to compare against.
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    const { rows } = await client.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]);
    const stored = rows[0].rolpassword;
    const parts = parseScramVerifier(stored);
    expect(parts).toBeDefined();
    if (!parts) return;
    expect(scramVerifier(password, parts.salt, parts.iterations)).toBe(stored);
  });

  it("a role given a verifier logs in with the password over SCRAM, and the server stores the verifier as sent", async () => {
    const password = `${Math.random().toString(36).slice(2)}'"\\$@:/`;
    const verifier = scramVerifier(password);
    await client.query(`CREATE ROLE given_verifier LOGIN PASSWORD ${client.escapeLiteral(verifier)}`);
    const { rows } = await client.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'given_verifier'");
    expect(rows[0].rolpassword).toBe(verifier);
    const login = new Client({ host: cluster.host, port: cluster.port, user: "given_verifier", password, database: "postgres" });
    await login.connect();
    const who = await login.query<{ current_user: string }>("SELECT current_user");
    await login.end();
    expect(who.rows).toEqual([{ current_user: "given_verifier" }]);
  });
});
