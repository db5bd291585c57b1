import { afterAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isPortClosed, startPostgresCluster, stopAllClusters } from "./cluster";

async function query<T>(uri: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: uri });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe("postgres harness", () => {
  afterAll(stopAllClusters);

  it("starts a cluster, copies it with its data, and stops both", async () => {
    const parent = await startPostgresCluster();
    expect(parent.host).toBe("127.0.0.1");
    await query(parent.adminUri(), "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'one'), (2, 'two')");
    await query(parent.adminUri(), "CREATE ROLE reader LOGIN PASSWORD 'secret-pw'");

    const copy = await startPostgresCluster({ from: parent });
    expect(copy.port).not.toBe(parent.port);
    expect(copy.dataDir).not.toBe(parent.dataDir);
    const rows = await query<{ id: number; body: string }>(copy.adminUri(), "SELECT id, body FROM notes ORDER BY id");
    expect(rows).toEqual([
      { id: 1, body: "one" },
      { id: 2, body: "two" },
    ]);
    // The copy keeps roles with their passwords, and is writable on its own.
    const [who] = await query<{ current_user: string }>(`postgresql://reader:secret-pw@127.0.0.1:${copy.port}/postgres`, "SELECT current_user");
    expect(who.current_user).toBe("reader");
    await query(copy.adminUri(), "INSERT INTO notes VALUES (3, 'three')");
    const parentCount = await query<{ n: string }>(parent.adminUri(), "SELECT count(*) AS n FROM notes");
    expect(parentCount[0].n).toBe("2");

    // Wrong password is refused: auth really is scram, not trust.
    await expect(query(`postgresql://reader:wrong@127.0.0.1:${copy.port}/postgres`, "SELECT 1")).rejects.toThrow(/password authentication failed/);

    // TLS is on too, with a certificate clients can verify for 127.0.0.1.
    expect(copy.caCertFile).toBeDefined();
    const tlsClient = new Client({ connectionString: copy.adminUri(), ssl: { ca: readFileSync(copy.caCertFile ?? "") } });
    await tlsClient.connect();
    const tlsRow = await tlsClient.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    await tlsClient.end();
    expect(tlsRow.rows).toEqual([{ ssl: true }]);

    await copy.stop();
    await parent.stop();
    expect(await isPortClosed(parent.port)).toBe(true);
    expect(await isPortClosed(copy.port)).toBe(true);
    expect(existsSync(parent.dataDir)).toBe(false);
    expect(existsSync(copy.dataDir)).toBe(false);
  });

  it("shuts a cluster down and removes its data when the process that started it is killed", async () => {
    const child = spawn(process.execPath, ["--require", "tsx/cjs", join(__dirname, "fixtures", "orphan-cluster.ts")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const started = await new Promise<{ port: number; dataDir: string }>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]) as { port: number; dataDir: string });
      });
      child.once("exit", (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    expect(await isPortClosed(started.port)).toBe(false);
    child.kill("SIGKILL");
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (!(await isPortClosed(started.port)) || existsSync(started.dataDir))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await isPortClosed(started.port)).toBe(true);
    expect(existsSync(started.dataDir)).toBe(false);
  });
});
