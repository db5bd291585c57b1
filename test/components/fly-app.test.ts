import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlyApp as FlyAppClass, FlyAppArgs } from "../../components/fly-app";
import { flyType, nameOf, setFlyMocks, settled, valueOf, type Registration } from "./fly-mocks";

let registrations: Registration[];
let FlyApp: typeof FlyAppClass;

beforeAll(async () => {
  registrations = await setFlyMocks();
  ({ FlyApp } = await import("../../components/fly-app"));
});

const image = "registry.fly.io/draft-app:deployment-1";

/** Seed 001's staging web app: two web machines, the daily cron machine, the Alembic release command. */
const draftApp: FlyAppArgs = {
  appName: "draft-app",
  orgSlug: "personal",
  primaryRegion: "ewr",
  image,
  processGroups: {
    app: {
      count: 2,
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
      command: ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"],
      httpService: {
        internalPort: 8080,
        autostop: "off",
        minMachinesRunning: 0,
        checks: [{ type: "http", port: 8080, method: "GET", path: "/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }],
      },
    },
  },
  env: { ENV: "stage", LOG_LEVEL: "INFO" },
  secrets: { DATABASE_URL: "postgresql+asyncpg://pipeline:pw@ep-x.neon.tech/draft", SECRET_KEY: "s3cret" },
  scheduledMachines: {
    "news-ingestion-cron": {
      schedule: "daily",
      entrypoint: ["/app/.venv/bin/python"],
      command: ["-m", "app.cli.cron_runner"],
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
    },
  },
  releaseCommand: { command: ["alembic", "upgrade", "head"] },
  ipAddresses: ["shared_v4", "v6"],
  certificates: ["draft.example.com"],
  deployToken: {},
};

interface Built {
  component: FlyAppClass;
  urn: string;
  children: Registration[];
}

async function build(name: string, args: FlyAppArgs): Promise<Built> {
  const component = new FlyApp(name, args);
  const urn = await valueOf(component.urn);
  await valueOf(component.machineIds);
  await settled(registrations);
  return { component, urn, children: registrations.filter((r) => r.parent === urn) };
}

function child(built: Built, type: string, name: string): Registration {
  const found = built.children.find((r) => r.type === flyType(type) && r.name === name);
  if (!found) throw new Error(`no ${type} '${name}' (have ${built.children.map((r) => `${r.type} ${r.name}`).join(", ")})`);
  return found;
}

const dnsRecord = "cloudflare:index/dnsRecord:DnsRecord";

function ofType(built: Built, type: string): Registration[] {
  return built.children.filter((r) => r.type === type);
}

/** Names of the children this one depends on directly. */
function dependsOn(built: Built, registration: Registration): string[] {
  return registration.dependencies.map(nameOf).sort();
}

describe("FlyApp with seed 001's web app, cron machine and release command", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("web", draftApp);
  });

  it.each([
    ["App", ["web"]],
    ["Secrets", ["web-secrets"]],
    ["ReleaseCommand", ["web-release-command"]],
    ["Machine", ["web-app-0", "web-app-1", "web-news-ingestion-cron"]],
    ["IpAddress", ["web-ip-shared_v4", "web-ip-v6"]],
    ["Certificate", ["web-cert-draft.example.com"]],
    ["DeployToken", ["web-deploy-token"]],
    ["Volume", []],
    ["MachineExec", []],
  ])("makes the %s resources %j, children of the component", (type, names) => {
    const made = built.children.filter((r) => r.type === flyType(type));
    expect(made.map((r) => r.name).sort()).toEqual(names);
    for (const registration of made) expect(registration.parent).toContain("platform:index:FlyApp::web");
  });

  it("passes no adopt, makes no DNS records without certificateDns, and leaves the stop config to Fly", () => {
    for (const registration of built.children) expect(registration.inputs.adopt).toBeUndefined();
    expect(ofType(built, dnsRecord)).toEqual([]);
    for (const name of ["web-app-0", "web-app-1", "web-news-ingestion-cron"]) expect(child(built, "Machine", name).inputs.stop).toBeUndefined();
  });

  it("registers nothing outside the component", () => {
    const strays = registrations.filter((r) => r.name.startsWith("web") && r.type !== "platform:index:FlyApp" && r.parent !== built.urn);
    expect(strays).toEqual([]);
  });

  it("gives each web machine the image, size, command, http service and the secrets version", () => {
    for (const [index, name] of ["web-app-0", "web-app-1"].entries()) {
      const machine = child(built, "Machine", name);
      expect(machine.inputs).toMatchObject({
        appName: "draft-app",
        name: `app-${index}`,
        region: "ewr",
        image,
        processGroup: "app",
        guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
        env: { ENV: "stage", LOG_LEVEL: "INFO" },
        init: { cmd: ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"] },
        minSecretsVersion: 7,
      });
      expect(machine.inputs.services).toEqual([
        {
          protocol: "tcp",
          internalPort: 8080,
          ports: [
            { port: 80, handlers: ["http"], forceHttps: true },
            { port: 443, handlers: ["tls", "http"] },
          ],
          autostop: "off",
          autostart: true,
          minMachinesRunning: 0,
          checks: [{ type: "http", port: 8080, method: "GET", path: "/health", interval: "30s", timeout: "5s", gracePeriod: "60s" }],
        },
      ]);
      expect(machine.inputs.schedule).toBeUndefined();
    }
  });

  it("runs the cron machine on the same image with its schedule, entrypoint, command and size", () => {
    const cron = child(built, "Machine", "web-news-ingestion-cron");
    expect(cron.inputs).toMatchObject({
      name: "news-ingestion-cron",
      image,
      schedule: "daily",
      region: "ewr",
      init: { entrypoint: ["/app/.venv/bin/python"], cmd: ["-m", "app.cli.cron_runner"] },
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 },
      processGroup: "news-ingestion-cron",
      minSecretsVersion: 7,
    });
    expect(cron.inputs.services).toBeUndefined();
  });

  it("runs the release command in the new image with the secrets version", () => {
    expect(child(built, "ReleaseCommand", "web-release-command").inputs).toMatchObject({
      appName: "draft-app",
      image,
      command: ["alembic", "upgrade", "head"],
      region: "ewr",
      minSecretsVersion: 7,
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 1024 },
      env: { ENV: "stage", LOG_LEVEL: "INFO" },
    });
  });

  it("rolls the web machines one at a time, after the release command; the cron machine waits for it too", () => {
    expect(dependsOn(built, child(built, "Machine", "web-app-0"))).toEqual(["web", "web-release-command", "web-secrets"]);
    expect(dependsOn(built, child(built, "Machine", "web-app-1"))).toEqual(["web", "web-app-0", "web-release-command", "web-secrets"]);
    expect(dependsOn(built, child(built, "Machine", "web-news-ingestion-cron"))).toEqual(["web", "web-release-command", "web-secrets"]);
  });

  it("sends the secret values as secrets and creates the certificate after the addresses", () => {
    const secrets = child(built, "Secrets", "web-secrets");
    expect(secrets.secretInputs).toContain("values");
    expect(secrets.inputs.values).toEqual(draftApp.secrets);
    expect(dependsOn(built, child(built, "Certificate", "web-cert-draft.example.com"))).toEqual(["web", "web-ip-shared_v4", "web-ip-v6"]);
  });

  it("outputs the names, machine ids and certificate records", async () => {
    const { component } = built;
    expect(await valueOf(component.appName)).toBe("draft-app");
    expect(await valueOf(component.hostname)).toBe("draft-app.fly.dev");
    expect(await valueOf(component.url)).toBe("https://draft-app.fly.dev");
    expect(await valueOf(component.image)).toBe(image);
    expect(await valueOf(component.privateHostname)).toBe("draft-app.internal");
    expect(await valueOf(component.machineIds)).toEqual(["m-web-app-0", "m-web-app-1"]);
    expect(await valueOf(component.processGroupMachineIds)).toEqual({ app: ["m-web-app-0", "m-web-app-1"] });
    expect(await valueOf(component.scheduledMachineIds)).toEqual({ "news-ingestion-cron": "m-web-news-ingestion-cron" });
    expect(await valueOf(component.certificates)).toEqual({
      "draft.example.com": {
        status: "pending_validation",
        cnameTarget: "draft-app.fly.dev",
        acmeChallengeName: "_acme-challenge.draft.example.com",
        acmeChallengeTarget: "draft.example.com.x1y2z3.flydns.net",
        ownershipName: "_fly-ownership.draft.example.com",
        ownershipValue: "app-ownership-value",
        aRecords: ["203.0.113.10"],
        aaaaRecords: ["2a09:8280:1::1"],
      },
    });
  });

  it("marks the deploy token secret and nothing else", async () => {
    const { component } = built;
    if (!component.deployToken) throw new Error("deployToken was asked for");
    expect(await pulumi.isSecret(component.deployToken)).toBe(true);
    expect(await valueOf(component.deployToken)).toBe("FlyV1 fm2_web-deploy-token");
    const plain: pulumi.Output<unknown>[] = [
      component.appName,
      component.hostname,
      component.url,
      component.image,
      component.privateHostname,
      component.machineIds,
      component.certificates,
    ];
    for (const output of plain) {
      expect(await pulumi.isSecret(output)).toBe(false);
    }
  });
});

describe("FlyApp with two process groups, volumes over two regions and an exec command", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("pipeline", {
      appName: "naluma-content",
      orgSlug: "personal",
      primaryRegion: "fra",
      image: "registry.fly.io/naluma-content:deployment-7",
      processGroups: {
        web: { count: 3, regions: ["ams", "lhr"], mounts: { data: "/data" } },
        worker: { count: 2, command: ["prefect", "worker", "start", "--pool", "content-pool"] },
      },
      volumes: { data: { sizeGb: 3 } },
      execCommands: { "work-pool": { command: ["prefect", "work-pool", "create", "content-pool", "--type", "process", "--overwrite"], processGroup: "worker" } },
    });
  });

  it("makes no secrets, release command, token, addresses or certificates that were not asked for", () => {
    for (const type of ["Secrets", "ReleaseCommand", "DeployToken", "IpAddress", "Certificate"]) {
      expect(built.children.filter((r) => r.type === flyType(type))).toEqual([]);
    }
    expect(built.component.deployToken).toBeUndefined();
    expect(child(built, "Machine", "pipeline-web-0").inputs.minSecretsVersion).toBeUndefined();
  });

  it.each([
    ["pipeline-web-0", ["pipeline"]],
    ["pipeline-web-1", ["pipeline", "pipeline-web-0"]],
    ["pipeline-web-2", ["pipeline", "pipeline-web-1"]],
    ["pipeline-worker-0", ["pipeline"]],
    ["pipeline-worker-1", ["pipeline", "pipeline-worker-0"]],
  ])("%s depends on %j (plus its volume): groups roll independently", (name, expected) => {
    const dependencies = dependsOn(built, child(built, "Machine", name)).filter((dependency) => !dependency.startsWith("pipeline-data-"));
    expect(dependencies).toEqual(expected);
  });

  it("spreads a group's machines over its regions and gives each its own volume there", () => {
    const regions = ["pipeline-web-0", "pipeline-web-1", "pipeline-web-2"].map((name) => child(built, "Machine", name).inputs.region);
    expect(regions).toEqual(["ams", "lhr", "ams"]);
    for (const [index, region] of regions.entries()) {
      const volume = child(built, "Volume", `pipeline-data-web-${index}`);
      expect(volume.inputs).toMatchObject({ appName: "naluma-content", name: "data", region, sizeGb: 3 });
      expect(child(built, "Machine", `pipeline-web-${index}`).inputs.mounts).toEqual([
        { volume: `vol_pipelinedataweb${index}`, path: "/data" },
      ]);
    }
    expect(child(built, "Machine", "pipeline-worker-0").inputs.region).toBe("fra");
  });

  it("runs the exec command in the group's first machine after the whole group, following the image", () => {
    const exec = child(built, "MachineExec", "pipeline-work-pool");
    expect(exec.inputs).toMatchObject({
      appName: "naluma-content",
      machineId: "m-pipeline-worker-0",
      command: ["prefect", "work-pool", "create", "content-pool", "--type", "process", "--overwrite"],
      trigger: "registry.fly.io/naluma-content:deployment-7",
    });
    expect(dependsOn(built, exec)).toEqual(["pipeline", "pipeline-worker-0", "pipeline-worker-1"]);
  });
});

describe("FlyApp with egress addresses (seed 000 §4's Neon IP allowlist)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("egress", {
      appName: "naluma-content",
      orgSlug: "personal",
      primaryRegion: "fra",
      image: "registry.fly.io/naluma-content:deployment-7",
      processGroups: { worker: { count: 1 } },
      ipAddresses: ["shared_v4", "egress_v4", "egress_v6"],
    });
  });

  it("allocates the egress addresses in the primary region and the others globally", () => {
    expect(child(built, "IpAddress", "egress-ip-egress_v4").inputs).toMatchObject({ appName: "naluma-content", type: "egress_v4", region: "fra" });
    expect(child(built, "IpAddress", "egress-ip-egress_v6").inputs).toMatchObject({ appName: "naluma-content", type: "egress_v6", region: "fra" });
    expect(child(built, "IpAddress", "egress-ip-shared_v4").inputs.region).toBeUndefined();
  });

  it("outputs the egress addresses only, in the order asked for, not as secrets", async () => {
    // The mocks give an address made from the resource name's length (fly-mocks.ts).
    expect(await valueOf(built.component.egressIps)).toEqual(["192.0.2.19", "2001:db8::19"]);
    expect(await pulumi.isSecret(built.component.egressIps)).toBe(false);
  });

  it("outputs no egress addresses when none was asked for", async () => {
    const plain = await build("plain", { appName: "plain-app", orgSlug: "personal", primaryRegion: "fra", image, processGroups: { app: {} }, ipAddresses: ["v6"] });
    expect(await valueOf(plain.component.egressIps)).toEqual([]);
  });
});

describe("FlyApp's image output", () => {
  it("resolves only after the machines: a second app fed with it registers after every one of them (seed 003's FLY_WORKER_IMAGE)", async () => {
    const workers = await build("workers", { appName: "chat-workers", orgSlug: "personal", primaryRegion: "iad", image, processGroups: { app: { count: 2 } } });
    const api = await build("api", {
      appName: "chat-api",
      orgSlug: "personal",
      primaryRegion: "iad",
      image: "registry.fly.io/chat-api:7",
      processGroups: { app: {} },
      env: { FLY_WORKER_IMAGE: workers.component.image },
    });
    const machine = child(api, "Machine", "api-app-0");
    expect(machine.inputs.env).toEqual({ FLY_WORKER_IMAGE: image });
    const workerMachines = ofType(workers, flyType("Machine")).map((r) => r.name);
    expect(workerMachines.sort()).toEqual(["workers-app-0", "workers-app-1"]);
    expect(machine.dependencies.map(nameOf)).toEqual(expect.arrayContaining(workerMachines));
  });
});

describe("FlyApp kill signal and timeout (fly.toml kill_signal / kill_timeout)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("stopping", {
      appName: "nuzantara-rag",
      orgSlug: "personal",
      primaryRegion: "sin",
      image,
      processGroups: {
        app: { count: 2, killSignal: "SIGTERM", killTimeout: "30s" },
        worker: { killSignal: "SIGINT" },
        cron: { killTimeout: "2m" },
        other: {},
      },
      scheduledMachines: { nightly: { schedule: "daily" } },
    });
  });

  it.each([
    ["stopping-app-0", { signal: "SIGTERM", timeout: "30s" }],
    ["stopping-app-1", { signal: "SIGTERM", timeout: "30s" }],
    ["stopping-worker-0", { signal: "SIGINT" }],
    ["stopping-cron-0", { timeout: "2m" }],
  ])("gives %s the stop config %j", (name, stop) => {
    expect(child(built, "Machine", name).inputs.stop).toEqual(stop);
  });

  it("leaves Fly's default to a group that sets neither, and to scheduled machines", () => {
    expect(child(built, "Machine", "stopping-other-0").inputs.stop).toBeUndefined();
    expect(child(built, "Machine", "stopping-nightly").inputs.stop).toBeUndefined();
  });
});

describe("FlyApp with adopt (taking over what was made by hand)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("adopted", {
      appName: "naluma-content",
      orgSlug: "personal",
      primaryRegion: "fra",
      image,
      processGroups: { app: { mounts: { data: "/data" } } },
      volumes: { data: {} },
      secrets: { API_KEY: "k" },
      ipAddresses: ["shared_v4", "egress_v4"],
      certificates: ["content.example.com"],
      scheduledMachines: { "news-cron": { schedule: "hourly" } },
      releaseCommand: { command: ["migrate"] },
      execCommands: { pools: { command: ["prefect", "work-pool", "ls"] } },
      deployToken: {},
      adopt: true,
    });
  });

  it.each([
    ["App", ["adopted"]],
    ["Volume", ["adopted-data-app-0"]],
    ["IpAddress", ["adopted-ip-egress_v4", "adopted-ip-shared_v4"]],
    ["Certificate", ["adopted-cert-content.example.com"]],
    ["Machine", ["adopted-app-0", "adopted-news-cron"]],
  ])("passes adopt to every %s", (type, names) => {
    const made = ofType(built, flyType(type));
    expect(made.map((r) => r.name).sort()).toEqual(names);
    for (const registration of made) expect(registration.inputs.adopt).toBe(true);
  });

  it.each(["Secrets", "ReleaseCommand", "MachineExec", "DeployToken"])("passes none to %s, which finds nothing by name", (type) => {
    const made = ofType(built, flyType(type));
    expect(made).toHaveLength(1);
    expect(made[0].inputs.adopt).toBeUndefined();
  });
});

describe("FlyApp with certificate DNS in Cloudflare", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("site", {
      appName: "draft-app-prod",
      orgSlug: "personal",
      primaryRegion: "ewr",
      image,
      processGroups: { app: { httpService: { internalPort: 8080 } } },
      ipAddresses: ["shared_v4", "v6"],
      certificates: ["draft.example.com", "www.draft.example.com"],
      certificateDns: { zoneId: "zone-draft", proxied: true },
    });
  });

  it("makes a CNAME to <app>.fly.dev per hostname, proxied as asked", () => {
    for (const hostname of ["draft.example.com", "www.draft.example.com"]) {
      const record = ofType(built, dnsRecord).find((r) => r.name === `site-dns-${hostname}`);
      expect(record?.inputs).toMatchObject({ zoneId: "zone-draft", name: hostname, type: "CNAME", content: "draft-app-prod.fly.dev", proxied: true, ttl: 1 });
    }
  });

  it("makes the _acme-challenge CNAME from Fly's certificate, never proxied, after the certificate", () => {
    for (const hostname of ["draft.example.com", "www.draft.example.com"]) {
      const record = ofType(built, dnsRecord).find((r) => r.name === `site-acme-${hostname}`);
      expect(record?.inputs).toMatchObject({
        zoneId: "zone-draft",
        name: `_acme-challenge.${hostname}`,
        type: "CNAME",
        content: `${hostname}.x1y2z3.flydns.net`,
        proxied: false,
      });
      expect(record?.dependencies.map(nameOf)).toContain(`site-cert-${hostname}`);
    }
    expect(ofType(built, dnsRecord)).toHaveLength(4);
  });

  it("does not proxy by default", async () => {
    const plain = await build("unproxied", {
      appName: "plain-site",
      orgSlug: "personal",
      primaryRegion: "ewr",
      image,
      processGroups: { app: {} },
      certificates: ["plain.example.com"],
      certificateDns: { zoneId: "zone-plain" },
    });
    expect(ofType(plain, dnsRecord).map((r) => [r.name, r.inputs.proxied]).sort()).toEqual([
      ["unproxied-acme-plain.example.com", false],
      ["unproxied-dns-plain.example.com", false],
    ]);
  });
});

describe("FlyApp refuses args that cannot make a sensible app", () => {
  const base: FlyAppArgs = { appName: "x-app", orgSlug: "personal", primaryRegion: "fra", image, processGroups: { app: {} } };
  it.each<[string, Partial<FlyAppArgs>, string]>([
    ["no process group", { processGroups: {} }, "FlyApp 'bad': `processGroups` must name at least one group"],
    ["a fractional count", { processGroups: { app: { count: 1.5 } } }, "processGroups.app.count must be a whole number >= 0, got 1.5"],
    ["a mount of an unknown volume", { processGroups: { app: { mounts: { data: "/data" } } } }, "names volume 'data', which is not in `volumes`"],
    ["two mounts", { processGroups: { app: { mounts: { a: "/a", b: "/b" } } }, volumes: { a: {}, b: {} } }, "may name one volume"],
    ["a group with an empty regions list", { processGroups: { app: { regions: [] } } }, "FlyApp 'bad': processGroups.app.regions must name at least one region"],
    ["an unmounted volume", { volumes: { data: {} } }, "volume 'data' is not mounted by any process group"],
    ["a duplicate address type", { ipAddresses: ["v6", "v6"] }, "ipAddresses lists a type twice"],
    ["an exec in a missing group", { execCommands: { pools: { command: ["true"], processGroup: "worker" } } }, "execCommands.pools.processGroup 'worker' is not a process group"],
    ["a cron machine named like a group machine", { scheduledMachines: { "app-0": { schedule: "daily" } } }, "scheduled machine name 'app-0' is also a process group machine's name"],
    ["a hostname twice", { certificates: ["a.example.com", "a.example.com"] }, "certificates lists a hostname twice: a.example.com, a.example.com"],
    ["a URL for a hostname", { certificates: ["https://a.example.com"] }, "certificates: 'https://a.example.com' must be a DNS hostname such as `app.example.com` (lowercase, no scheme or path)"],
    ["a hostname in capitals", { certificates: ["Dashboard.Example.com"] }, "certificates: 'Dashboard.Example.com' must be a DNS hostname"],
    ["a single-label hostname", { certificates: ["localhost"] }, "certificates: 'localhost' must be a DNS hostname"],
    ["certificate DNS without a certificate", { certificateDns: { zoneId: "zone" } }, "certificateDns is given but `certificates` names no hostname"],
  ])("refuses %s, before registering anything", async (_title, change, message) => {
    const before = registrations.length;
    expect(() => new FlyApp("bad", { ...base, ...change })).toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registrations.length).toBe(before);
  });

  it("takes a wildcard certificate", async () => {
    const wildcard = await build("wildcard", { ...base, appName: "wild-app", certificates: ["*.example.com"] });
    expect(child(wildcard, "Certificate", "wildcard-cert-*.example.com").inputs.hostname).toBe("*.example.com");
  });
});

describe("FlyApp deploy strategies (fly.toml [deploy]) per process group", () => {
  const withChecks = {
    count: 6,
    httpService: { internalPort: 8080, checks: [{ type: "http" as const, port: 8080, path: "/health", interval: "15s", timeout: "5s" }] },
  };
  const app = (name: string, deploy: FlyAppArgs["processGroups"][string]["deploy"], appImage = image): FlyAppArgs => ({
    appName: `${name}-app`,
    orgSlug: "personal",
    primaryRegion: "fra",
    image: appImage,
    processGroups: { web: { ...withChecks, deploy } },
  });
  /** Machine index → the indices of the group's machines it depends on. */
  const chains = (built: Built, name: string): number[][] =>
    [0, 1, 2, 3, 4, 5].map((index) =>
      dependsOn(built, child(built, "Machine", `${name}-web-${index}`))
        .filter((dependency) => dependency.startsWith(`${name}-web-`))
        .map((dependency) => Number(dependency.slice(`${name}-web-`.length))),
    );

  it("rolls 6 machines in 2 chains by default (maxUnavailable 0.33), waiting 5m for start and checks and 10s of smoke checks", async () => {
    const built = await build("roll", app("roll", undefined));
    expect(chains(built, "roll")).toEqual([[], [], [0], [1], [2], [3]]);
    const inputs = child(built, "Machine", "roll-web-4").inputs;
    expect(inputs.name).toBe("web-4");
    expect(inputs.waitForChecks).toBe(true);
    expect(inputs.timeouts).toEqual({ startSeconds: 300, checksSeconds: 300, smokeSeconds: 10 });
  });

  it("takes maxUnavailable as a count, waitTimeout as a duration, and smoke checks off", async () => {
    const built = await build("count", app("count", { maxUnavailable: 3, waitTimeout: "10m", smokeChecks: false }));
    expect(chains(built, "count")).toEqual([[], [], [], [0], [1], [2]]);
    expect(child(built, "Machine", "count-web-0").inputs.timeouts).toEqual({ startSeconds: 600, checksSeconds: 600, smokeSeconds: 0 });
  });

  it("immediate: no chain, no waiting for checks or smoke checks", async () => {
    const built = await build("now", app("now", { strategy: "immediate" }));
    expect(chains(built, "now")).toEqual([[], [], [], [], [], []]);
    const inputs = child(built, "Machine", "now-web-0").inputs;
    expect(inputs.waitForChecks).toBe(false);
    expect(inputs.timeouts).toMatchObject({ smokeSeconds: 0 });
  });

  it("canary: machine 0 first, then the other 5 in chains of 2 (0.33 of 5)", async () => {
    const built = await build("canary", app("canary", { strategy: "canary" }));
    expect(chains(built, "canary")).toEqual([[], [0], [0], [1], [2], [3]]);
  });

  it("bluegreen: no chain, and each machine named after its config, so a new image is a new machine", async () => {
    const first = await build("bg", app("bg", { strategy: "bluegreen" }));
    const second = await build("bg2", app("bg", { strategy: "bluegreen" }, "registry.fly.io/draft-app:deployment-2"));
    expect(chains(first, "bg")).toEqual([[], [], [], [], [], []]);
    const name = (built: Built, prefix: string, index: number): string => String(child(built, "Machine", `${prefix}-web-${index}`).inputs.name);
    expect(name(first, "bg", 0)).toMatch(/^web-0-[0-9a-f]{8}$/);
    expect(name(first, "bg", 1)).toMatch(/^web-1-[0-9a-f]{8}$/);
    expect(name(first, "bg", 0).slice(-8)).toBe(name(first, "bg", 1).slice(-8));
    expect(name(second, "bg2", 0).slice(-8)).not.toBe(name(first, "bg", 0).slice(-8));
  });

  const base: FlyAppArgs = { appName: "x-app", orgSlug: "personal", primaryRegion: "fra", image, processGroups: { app: {} } };
  it.each<[string, FlyAppArgs["processGroups"], FlyAppArgs["volumes"], string]>([
    ["an unknown strategy", { app: { ...withChecks, deploy: { strategy: "recreate" as "rolling" } } }, undefined, 'processGroups.app.deploy.strategy must be one of rolling, immediate, canary, bluegreen, got "recreate"'],
    ["maxUnavailable 0", { app: { deploy: { maxUnavailable: 0 } } }, undefined, "processGroups.app.deploy.maxUnavailable must be a fraction in (0, 1) or a whole number >= 1, got 0"],
    ["maxUnavailable 1.5", { app: { deploy: { maxUnavailable: 1.5 } } }, undefined, "processGroups.app.deploy.maxUnavailable must be a fraction in (0, 1) or a whole number >= 1, got 1.5"],
    ["maxUnavailable with immediate", { app: { deploy: { strategy: "immediate", maxUnavailable: 2 } } }, undefined, "processGroups.app.deploy.maxUnavailable applies to the rolling and canary strategies only, not immediate"],
    ["a waitTimeout that is no duration", { app: { deploy: { waitTimeout: "soon" } } }, undefined, 'processGroups.app.deploy.waitTimeout must be a duration of at least 1s such as "5m" or "90s", got "soon"'],
    ["bluegreen without a health check", { app: { count: 2, deploy: { strategy: "bluegreen" } } }, undefined, "processGroups.app.deploy.strategy bluegreen needs at least one health check"],
    ["bluegreen with a volume", { app: { ...withChecks, mounts: { data: "/data" }, deploy: { strategy: "bluegreen" } } }, { data: {} }, "processGroups.app.deploy.strategy bluegreen cannot be used with mounts"],
  ])("refuses %s, before registering anything", async (_title, processGroups, volumes, message) => {
    const before = registrations.length;
    expect(() => new FlyApp("bad-deploy", { ...base, processGroups, volumes })).toThrow(`FlyApp 'bad-deploy': ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registrations.length).toBe(before);
  });

  it("takes bluegreen with a [checks] machine check", () => {
    expect(() => new FlyApp("bg-checks", { ...base, appName: "bgc-app", processGroups: { app: { checks: { alive: { type: "tcp", port: 8080 } }, deploy: { strategy: "bluegreen" } } } })).not.toThrow();
  });
});
