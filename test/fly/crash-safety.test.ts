/**
 * Crash safety of every Fly resource that makes something remote: each create is hit once by "the server acted,
 * then the answer was lost" and once by "crash between call and record" (the create succeeded, its result is
 * thrown away), then created again as the next `pulumi up` would, then the recorded one deleted. The matrix is
 * printed at the end; every cell must be `survived` or, where Fly gives no way back, a `clear error`.
 *
 * The same cases feed the fault matrix (test/support/fault-matrix.ts): every writing call of each create and delete ×
 * {dropped connection, lost answer}; `npm run faults` adds 429 and 5xx and the reads.
 */
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { appProvider } from "../../dynamic-providers/fly/app";
import { certificateProvider } from "../../dynamic-providers/fly/certificate";
import { deployTokenProvider } from "../../dynamic-providers/fly/deploy-token";
import { ipAddressProvider } from "../../dynamic-providers/fly/ip-address";
import { machineExecProvider } from "../../dynamic-providers/fly/machine-exec";
import { machineProvider } from "../../dynamic-providers/fly/machine";
import { releaseCommandProcessGroup, releaseCommandProvider, type ReleaseCommandInputs } from "../../dynamic-providers/fly/release-command";
import { secretsProvider } from "../../dynamic-providers/fly/secrets";
import { volumeProvider } from "../../dynamic-providers/fly/volume";
import { forgetClaims } from "../../dynamic-providers/core/claims";
import { sleep } from "../../dynamic-providers/core/retry";
import { describeCrashMatrix, type CrashCase, type CrashFault, type CrashOutcome } from "../support/crash-matrix";
import { describeFaultMatrix } from "../support/fault-matrix";
import { useFlyEmulator } from "./support";

const appName = "crash-app";
const { emu, flyOk } = useFlyEmulator({ apps: [appName] });

function app(name = appName) {
  const record = emu.state.apps.get(name);
  if (!record) throw new Error(`no app ${name}`);
  return record;
}

const lose = (operationId: string) => () => emu.faults.failNext(operationId, 1, { kind: "actThenDrop" });
const live = (state: string) => state !== "destroyed" && state !== "destroying";

/** The most release-command machines alive at once while `work` runs. */
async function peakReleaseMachines(work: () => Promise<unknown>): Promise<number> {
  let peak = 0;
  const sample = () => {
    const count = [...(emu.state.apps.get(appName)?.machines.values() ?? [])].filter(
      (m) => live(m.state) && m.config.metadata?.["fly_process_group"] === releaseCommandProcessGroup,
    ).length;
    peak = Math.max(peak, count);
  };
  const timer = setInterval(sample, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
    sample();
  }
  return peak;
}

const releaseInputs: ReleaseCommandInputs = { appName, image: "registry.fly.io/crash-app:deployment-1", command: ["alembic", "upgrade", "head"], region: "fra" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of providers of different types
type AnyCase = CrashCase<any, any>;

const cases: AnyCase[] = [
  {
    resource: "App",
    provider: appProvider,
    inputs: () => ({ name: "crash-made-app", orgSlug: "personal" }),
    loseNextAnswer: lose("Apps_create"),
    count: () => (emu.state.apps.has("crash-made-app") ? 1 : 0),
  },
  {
    resource: "Machine",
    provider: machineProvider,
    inputs: () => ({ appName, name: "web", region: "fra", image: "nginx:1" }),
    loseNextAnswer: lose("Machines_create"),
    count: () => [...app().machines.values()].filter((m) => m.name === "web" && live(m.state)).length,
  },
  {
    resource: "Volume",
    provider: volumeProvider,
    inputs: () => ({ appName, name: "data", region: "fra", sizeGb: 1, encrypted: true, snapshotRetention: 5 }),
    loseNextAnswer: lose("Volumes_create"),
    count: () => [...app().volumes.values()].filter((v) => v.name === "data" && v.state !== "destroyed").length,
  },
  {
    resource: "IpAddress",
    provider: ipAddressProvider,
    inputs: () => ({ appName, type: "v6", region: "" }),
    loseNextAnswer: lose("App_IPAssignments_create"),
    count: () => app().ips.filter((ip) => ip.type === "v6").length,
  },
  {
    resource: "Certificate",
    provider: certificateProvider,
    inputs: () => ({ appName, hostname: "crash.example.com" }),
    loseNextAnswer: lose("App_Certificates_acme_create"),
    count: () => (app().certificates.has("crash.example.com") ? 1 : 0),
  },
  {
    resource: "Secrets",
    provider: secretsProvider,
    inputs: () => ({ appName, values: { DATABASE_URL: "postgres://x" } }),
    loseNextAnswer: lose("Secrets_update"),
    count: () => (app().secrets.has("DATABASE_URL") ? 1 : 0),
  },
  {
    resource: "DeployToken",
    provider: deployTokenProvider,
    inputs: () => ({ appName, expiry: "720h", name: "pulumi/organization/platform/crash/token#00000000" }),
    loseNextAnswer: lose("CreateLimitedAccessToken"),
    count: () => app().deployTokens.filter((token) => token.revokedAt === null).length,
  },
  {
    resource: "MachineExec",
    provider: machineExecProvider,
    async inputs() {
      // One target per test (the app is made afresh for each), shared by that test's scenarios.
      const existing = [...app().machines.values()].find((m) => m.name === "exec-target" && live(m.state));
      const machineId = existing?.id ?? String((await flyOk("POST", `/v1/apps/${appName}/machines`, { name: "exec-target", region: "fra", config: { image: "nginx:1" } }))["id"]);
      return { appName, machineId, command: ["prefect", "work-pool", "create", "pool", "--overwrite"] };
    },
    loseNextAnswer: lose("Machines_exec"),
    // A command, not an object: nothing stays behind; running it again after a lost answer is what it is for.
    count: () => 0,
  },
  {
    resource: "ReleaseCommand",
    provider: releaseCommandProvider,
    inputs: () => releaseInputs,
    loseNextAnswer: lose("Machines_create"),
    count: () => 0,
    /**
     * A run, not an object: what matters is that two runs never overlap. "crash" here is the provider host
     * dying while its machine runs (the machine goes on), then the next `pulumi up` running the command again.
     */
    async custom(fault: CrashFault): Promise<CrashOutcome> {
      const provider = releaseCommandProvider as Required<pulumi.dynamic.ResourceProvider<ReleaseCommandInputs, unknown>>;
      emu.transitionMs = 40;
      try {
        if (fault === "lost answer") {
          lose("Machines_create")();
          const peak = await peakReleaseMachines(async () => {
            await provider.create(releaseInputs).catch(() => provider.create(releaseInputs));
          });
          return peak > 1 ? "ran twice at once" : "survived";
        }
        const peak = await peakReleaseMachines(async () => {
          const first = provider.create(releaseInputs);
          // The first run's machine is up; its host is gone (its promise is ignored from here on).
          for (let i = 0; i < 200 && [...app().machines.values()].every((m) => !live(m.state)); i++) await sleep(2);
          forgetClaims();
          const second = provider.create(releaseInputs);
          await Promise.allSettled([first, second]);
          await second;
        });
        return peak > 1 ? "ran twice at once" : "survived";
      } finally {
        emu.transitionMs = 0;
      }
    },
  },
];


/**
 * Where Fly gives no way back. App: names are global, so a second create after a crash is refused with "set
 * `adopt: true`" (an app is never taken over silently). DeployToken survives both: a token has a name (Fly's
 * GraphQL API), and a create revokes every live token of its name before making one.
 */
const expected: Record<string, Partial<Record<CrashFault, CrashOutcome>>> = {
  App: { crash: "clear error" },
};

describeCrashMatrix("Fly", cases, expected);

describeFaultMatrix("Fly", () => emu, cases.filter((c) => !c.custom));


describe("Fly crash safety: what the table cannot show", () => {
  it("a deploy token whose answer was lost: the left-over token is revoked and exactly one live token remains", async () => {
    emu.faults.failNext("CreateLimitedAccessToken", 1, { kind: "actThenDrop" });
    const provider = deployTokenProvider as Required<typeof deployTokenProvider>;
    const name = "pulumi/organization/platform/crash/token#00000000";
    const { id, outs } = await provider.create({ appName, expiry: "720h", name });
    const tokens = app().deployTokens;
    expect(tokens).toHaveLength(2);
    expect(tokens.every((token) => token.name === name)).toBe(true);
    expect(tokens.filter((token) => token.revokedAt === null).map((token) => token.id)).toEqual([id]);
    expect(tokens.find((token) => token.id !== id)?.revokedAt).toEqual(expect.any(String));
    expect(outs).toMatchObject({ tokenId: id, name });
    expect(emu.calls.map((call) => `${call.operationId} ${call.status}`)).toEqual([
      "GetAppLimitedAccessTokens 200",
      "CreateLimitedAccessToken 0",
      "GetAppLimitedAccessTokens 200",
      "RevokeLimitedAccessToken 200",
      "CreateLimitedAccessToken 200",
      // After a lost create: any other live token of the name (the lost one landing late) would be revoked now.
      "GetAppLimitedAccessTokens 200",
    ]);
  });

  it("two release commands of one image started together run the migration once", async () => {
    const provider = releaseCommandProvider as Required<pulumi.dynamic.ResourceProvider<ReleaseCommandInputs, unknown>>;
    emu.transitionMs = 20;
    try {
      const peak = await peakReleaseMachines(() => Promise.all([provider.create(releaseInputs), provider.create(releaseInputs)]));
      expect(peak).toBe(1);
      expect(emu.calls.filter((call) => call.operationId === "Machines_create" && call.status === 200)).toHaveLength(1);
    } finally {
      emu.transitionMs = 0;
    }
  });
});
