/**
 * The Fly region and env-name rules, one table across every provider that checks them, and the proof that the stack
 * config reads the same list and pattern (the same objects, not copies).
 */
import { describe, expect, it } from "vitest";
import { flyRegions as configRegions, patterns } from "../../config-kit";
import { unknownValue, type CheckFailure } from "../../dynamic-providers/core/check";
import { ipAddressProvider, type IpAddressInputs } from "../../dynamic-providers/fly/ip-address";
import { machineProvider } from "../../dynamic-providers/fly/machine";
import { envNamePattern } from "../../dynamic-providers/fly/machine-check";
import type { MachineInputs } from "../../dynamic-providers/fly/machine-types";
import { flyRegions } from "../../dynamic-providers/fly/regions";
import { releaseCommandProvider, type ReleaseCommandInputs } from "../../dynamic-providers/fly/release-command";
import { volumeProvider, type VolumeInputs } from "../../dynamic-providers/fly/volume";

type Check = (news: Record<string, unknown>) => Promise<CheckFailure[]>;

const machine: MachineInputs = { appName: "app", name: "web", region: "ams", image: "registry.fly.io/app:1" };
const volume: VolumeInputs = { appName: "app", name: "data", region: "ams", sizeGb: 1 };
const ipAddress: IpAddressInputs = { appName: "app", type: "egress_v4", region: "ams" };
const releaseCommand: ReleaseCommandInputs = { appName: "app", image: "registry.fly.io/app:1", command: ["migrate"], region: "ams" };

const checks: Record<string, [label: string, check: Check]> = {
  Machine: ["fly machine 'web'", async (news) => (await machineProvider.check!({} as MachineInputs, { ...machine, ...news } as MachineInputs)).failures ?? []],
  Volume: ["fly volume 'data'", async (news) => (await volumeProvider.check!({} as VolumeInputs, { ...volume, ...news } as VolumeInputs)).failures ?? []],
  IpAddress: ["fly ip address 'app'", async (news) => (await ipAddressProvider.check!({} as IpAddressInputs, { ...ipAddress, ...news } as IpAddressInputs)).failures ?? []],
  ReleaseCommand: [
    "fly release command 'app'",
    async (news) => (await releaseCommandProvider.check!({} as ReleaseCommandInputs, { ...releaseCommand, ...news } as ReleaseCommandInputs)).failures ?? [],
  ],
};

const regionRule = `must be a Fly region (one of ${flyRegions.join(", ")})`;

describe("Fly region: one list for every provider and the stack config", () => {
  it.each(Object.keys(checks).flatMap((kind) => ["zzz", "Frankfurt", "FRA", "fra "].map((region) => [kind, region])))(
    "%s refuses region %j, naming the field",
    async (kind, region) => {
      const [label, check] = checks[kind];
      expect(await check({ region })).toEqual([{ property: "region", reason: `${label}: region ${regionRule}, got ${JSON.stringify(region)}` }]);
    },
  );

  it.each(Object.keys(checks))("%s accepts every listed region, and one not known yet (preview)", async (kind) => {
    const [, check] = checks[kind];
    for (const region of [...flyRegions, unknownValue]) expect(await check({ region })).toEqual([]);
  });

  it("a global IP address needs no region; a missing region is refused where one is required", async () => {
    expect(await checks.IpAddress[1]({ type: "shared_v4", region: "" })).toEqual([]);
    expect((await checks.Machine[1]({ region: undefined })).map((failure) => failure.reason)).toEqual([
      "fly machine 'web': region is required (a Fly region code such as `ams` or `ord`)",
    ]);
  });

  it("the stack config reads the same list and the same env-name pattern", () => {
    expect(configRegions).toBe(flyRegions);
    expect(patterns.envName).toBe(envNamePattern);
  });
});

describe("Fly env names: letters, digits and underscores, not starting with a digit", () => {
  const envKinds = ["Machine", "ReleaseCommand"];
  const rule = "must be named with letters, digits and underscores, not starting with a digit";

  it.each(envKinds.flatMap((kind) => ["A=B", "A\nB", "", "1A", "A B", "A-B"].map((name) => [kind, name])))(
    "%s refuses the env name %j, naming it",
    async (kind, name) => {
      const [label, check] = checks[kind];
      const property = `env[${JSON.stringify(name)}]`;
      expect(await check({ env: { OK: "1", [name]: "value" } })).toEqual([{ property, reason: `${label}: ${property} ${rule}` }]);
    },
  );

  it.each(envKinds)("%s accepts ordinary names", async (kind) => {
    const [, check] = checks[kind];
    expect(await check({ env: { DATABASE_URL: "x", _PRIVATE: "y", a1: "z" } })).toEqual([]);
  });
});
