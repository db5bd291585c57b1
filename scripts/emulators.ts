/**
 * `npm run emulators`: starts the Fly Machines API emulator and the Neon API emulator (each Neon branch a real
 * PostgreSQL cluster) on free loopback ports, prints the environment that points the providers at them, and stays up
 * until Ctrl-C. With it exported, `pulumi up -s local` (Pulumi.local.yaml) builds seed 000 without any account:
 *
 *   npm run emulators            # in one terminal; copy the `export …` line it prints into another
 *   pulumi up -s local           # in the other
 *
 * State lives in memory: stopping the emulators forgets every app and project (run `pulumi stack rm --force local`
 * or `pulumi destroy` before, or start the stack's state afresh). The PostgreSQL server binaries must be installed
 * (scripts/ensure-postgres.sh, which `npm run emulators` runs first, says how).
 */
import { startFlyEmulator } from "../test/emulators/fly/server";
import { startNeonEmulator } from "../test/emulators/neon/emulator";
import { stopAllClusters } from "../test/emulators/postgres/cluster";

/** Quotes a value for a POSIX shell's `export`. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

async function main(): Promise<void> {
  const fly = await startFlyEmulator();
  const neon = await startNeonEmulator({ operationMs: 100 });
  const env: Record<string, string> = { FLY_API_URL: fly.url, FLY_GRAPHQL_URL: fly.graphqlUrl, FLY_API_TOKEN: fly.token, NEON_API_URL: neon.url, NEON_API_KEY: neon.apiKey };
  console.log(`Fly Machines API emulator: ${fly.url} (deploy tokens: ${fly.graphqlUrl})`);
  console.log(`Neon API emulator:         ${neon.url}`);
  console.log("Export this in the shell you run `pulumi up -s local` from:\n");
  console.log(`export ${Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`).join(" ")}\n`);
  console.log("Ctrl-C stops both (and forgets everything they hold).");

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // close() rejects when a request broke the APIs' OpenAPI documents: report it, but stop anyway.
    const results = await Promise.allSettled([fly.close(), neon.close()]);
    await stopAllClusters();
    for (const result of results) if (result.status === "rejected") console.error(String(result.reason));
    const flyCalls = fly.calls.length;
    const neonCalls = neon.calls.length;
    console.log(`Stopped after ${flyCalls} Fly and ${neonCalls} Neon API calls.`);
    process.exit(results.some((result) => result.status === "rejected") ? 1 : 0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  await stopAllClusters();
  process.exit(1);
});
