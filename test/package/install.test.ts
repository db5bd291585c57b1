/**
 * Installing this repository as a package, the way another Pulumi project gets it from git
 * (`npm install git+https://…/platform.git`): npm checks the repository out, runs `prepare` (tsc with
 * tsconfig.lib.json into lib/), packs what `files` lets through and unpacks that into the consumer's
 * node_modules/platform. Offline, the same steps are: copy the repository's files to a staging folder,
 * `npm run prepare` there, list the package with `npm pack --dry-run`, and copy exactly those files into
 * `<tmp>/consumer/node_modules/platform/` (a real copy: code under node_modules is what Pulumi's closure
 * serializer references by `require()` instead of serializing by value). Every other top-level entry of the
 * repository's node_modules is symlinked next to it, and the consumer's node processes run with
 * `--preserve-symlinks` so @pulumi/pulumi sees the consumer's node_modules as it would in a real install.
 *
 * What the serializer emits for library code under node_modules (SDK 3.248.0, runtime/closure): a module the
 * provider closure captures (e.g. `machine_check_1`) is found in require.cache, named relative to the cwd
 * (`./node_modules/platform/lib/dynamic-providers/fly/machine-check.js`), the part up to node_modules is cut
 * off and the rest goes through `getModuleFromPath`. That looks for the package root by `require.resolve`
 * of ever shorter prefixes; `platform` itself is not exported (no "." entry), so it finds no package.json
 * and the path is emitted unchanged: `require("platform/lib/dynamic-providers/fly/machine-check.js")`,
 * with the `.js`. The exports map therefore needs `"./lib/*.js": "./lib/*.js"`: with only
 * `"./lib/*": "./lib/*.js"` the host fails to load the provider with "Cannot find module
 * …/machine-check.js.js".
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "../..");
const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");

/** A value the consumer's process has in FLY_API_TOKEN: it must not end up in any serialized provider. */
const flyTokenCanary = "FlyV1 fm2_consumer-canary-token-0d4c3f";
/** A FlyApp secret: it belongs in the Secrets resource's inputs, never in provider code. */
const databaseUrlCanary = "postgresql://consumer:hunter2-canary@db.example.com/consumer";

const libraryExports = [
  "FlyApp",
  "NeonProject",
  "PrefectServer",
  "DashboardApp",
  "DocsSite",
  "FlyAppSecrets",
  "CloudflareWorker",
  "R2Bucket",
  "GitHubRepositoryGuardrails",
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function mustRun(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(command, args, cwd, env);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} (in ${cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A child's environment: nothing of the developer's (no real FLY_API_TOKEN), plus what the test adds. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, npm_config_update_notifier: "false", npm_config_offline: "true", npm_config_fund: "false", ...extra };
}

/** The files a git checkout would have: tracked ones plus new, not ignored ones (a commit would add them). */
async function checkoutFiles(): Promise<string[]> {
  const listed = await mustRun("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], repo);
  return listed.split("\0").filter((file) => file !== "" && !file.startsWith("node_modules") && fs.existsSync(path.join(repo, file)));
}

interface PackResult {
  files: { path: string }[];
}

function filesUnder(dir: string, relative = ""): string[] {
  return fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).flatMap((entry) => {
    const child = path.join(relative, entry.name);
    return entry.isDirectory() ? filesUnder(dir, child) : [child.split(path.sep).join("/")];
  });
}

/** What the consumer process saw: the library's exports and every resource the mock monitor registered. */
interface Constructed {
  resolved: string;
  exported: Record<string, string>;
  registered: { type: string; name: string; inputs: Record<string, unknown> }[];
}

interface HostResult {
  results: { name: string; methods: string[]; checks: { inputs: Record<string, unknown>; failures: { property: string; reason: string }[] }[] }[];
  loaded: string[];
}

const secretSignatureKey = "4dabf18193072939515e22adb298388d";

/** Plain values, as the engine sends them to the Node.js dynamic-provider host (it answers acceptSecrets=false). */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (secretSignatureKey in record) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  }
  return value;
}

function providerText(inputs: Record<string, unknown>): string {
  const provider = unwrapSecrets(inputs.__provider);
  if (typeof provider !== "string") throw new Error(`__provider is not a string: ${JSON.stringify(inputs.__provider)}`);
  return provider;
}

/** The consumer's program, in JS: what `import { FlyApp } from "platform/components"` compiles to. */
const constructScript = `"use strict";
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: args.name + "-id", state: args.inputs };
    },
    call(args) {
      throw new Error("unexpected call " + args.token);
    },
  },
  "consumer",
  "test",
);
const components = require("platform/components");
new components.FlyApp("web", {
  appName: "consumer-web",
  orgSlug: "personal",
  primaryRegion: "fra",
  image: "registry.fly.io/consumer-web:deployment-1",
  processGroups: { app: { httpService: { internalPort: 8080 } } },
  secrets: { DATABASE_URL: pulumi.secret(${JSON.stringify(databaseUrlCanary)}) },
});
let written = false;
process.on("beforeExit", () => {
  if (written) return;
  written = true;
  const exported = Object.fromEntries(Object.entries(components).map(([key, value]) => [key, typeof value]));
  fs.writeFileSync(process.argv[2], JSON.stringify({ resolved: require.resolve("platform/components"), exported, registered }));
});
`;

/**
 * What the SDK's dynamic-provider host does with a resource's \`__provider\`
 * (node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js, getProvider): \`requireFromString(text).handler()\`,
 * with no filename, so the text's require()s resolve from the cwd's node_modules (the program's folder).
 * Then check(olds, news) as the host's checkRPC calls it.
 */
const hostScript = `"use strict";
const fs = require("fs");
const path = require("path");
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const requireFromString = require(require.resolve("require-from-string", { paths: [pulumiDir] }));
const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
(async () => {
  const results = [];
  for (const job of jobs) {
    const provider = requireFromString(job.provider).handler();
    const methods = Object.keys(provider).filter((key) => typeof provider[key] === "function").sort();
    const checks = [];
    for (const news of job.checks) {
      const result = await provider.check({}, news);
      checks.push({ inputs: result.inputs, failures: result.failures || [] });
    }
    results.push({ name: job.name, methods, checks });
  }
  const marker = path.sep + "node_modules" + path.sep + "platform" + path.sep;
  const loaded = Object.keys(require.cache).filter((file) => file.includes(marker)).map((file) => path.relative(process.cwd(), file)).sort();
  fs.writeFileSync(process.argv[3], JSON.stringify({ results, loaded }));
})().catch((error) => {
  console.error((error && error.stack) || error);
  process.exit(1);
});
`;

/** A TypeScript consumer: resolves the package's types and gets real ones (a wrong field type is an error). */
const consumerIndex = `import * as pulumi from "@pulumi/pulumi";
import { FlyApp, NeonProject, type FlyAppArgs } from "platform/components";

const args: FlyAppArgs = {
  appName: "consumer-web",
  orgSlug: "personal",
  primaryRegion: "fra",
  image: "registry.fly.io/consumer-web:deployment-1",
  processGroups: { app: {} },
};
const app = new FlyApp("web", args);
export const url: pulumi.Output<string> = app.url;
export const neon: typeof NeonProject = NeonProject;
// @ts-expect-error primaryRegion is a pulumi.Input<string>: the types are the library's, not \`any\`
export const wrong: FlyAppArgs = { ...args, primaryRegion: 3 };
`;

function consumerTsconfig(moduleResolution: "node16" | "node"): string {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: moduleResolution === "node16" ? "node16" : "commonjs",
      moduleResolution,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    },
    files: ["index.ts"],
  });
}

let tmp: string;
let stage: string;
let consumer: string;
let installed: string;
let packed: string[];
let constructed: Constructed;
const packageJson = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as {
  name: string;
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pkg-install-"));
  stage = path.join(tmp, "checkout");
  consumer = path.join(tmp, "consumer");
  installed = path.join(consumer, "node_modules", packageJson.name);

  // 1. The git checkout, with the dependencies npm installs before `prepare`.
  for (const file of await checkoutFiles()) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    fs.copyFileSync(path.join(repo, file), path.join(stage, file));
  }
  fs.symlinkSync(fs.realpathSync(path.join(repo, "node_modules")), path.join(stage, "node_modules"), "dir");
  await mustRun("npm", ["run", "prepare"], stage, childEnv());

  // 2. What npm packs from it (`files`), unpacked into the consumer's node_modules.
  const pack = JSON.parse(await mustRun("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], stage, childEnv())) as PackResult[];
  packed = pack[0].files.map((file) => file.path).sort();
  for (const file of packed) {
    fs.mkdirSync(path.dirname(path.join(installed, file)), { recursive: true });
    fs.copyFileSync(path.join(stage, file), path.join(installed, file));
  }
  const modules = path.join(repo, "node_modules");
  for (const entry of fs.readdirSync(modules)) {
    if (entry === packageJson.name) continue;
    fs.symlinkSync(fs.realpathSync(path.join(modules, entry)), path.join(consumer, "node_modules", entry));
  }
  fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));

  // 3. The consumer's program under Pulumi's mocks, with a FLY_API_TOKEN in its environment.
  fs.writeFileSync(path.join(consumer, "construct.js"), constructScript);
  const out = path.join(tmp, "constructed.json");
  await mustRun(process.execPath, ["--preserve-symlinks", "construct.js", out], consumer, childEnv({ FLY_API_TOKEN: flyTokenCanary }));
  constructed = JSON.parse(fs.readFileSync(out, "utf8")) as Constructed;
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the package npm installs from git", () => {
  it("prepare builds lib/ with tsconfig.lib.json", () => {
    expect(packageJson.scripts.prepare).toBe("tsc -p tsconfig.lib.json");
    expect(fs.existsSync(path.join(stage, "lib", "components", "index.js"))).toBe(true);
  });

  it("ships lib/ (JavaScript and declarations) and package.json, not sources, tests or stack config", () => {
    expect(packed).toEqual(expect.arrayContaining([
      "package.json",
      "lib/components/index.js",
      "lib/components/index.d.ts",
      "lib/components/fly-app.d.ts",
      "lib/dynamic-providers/fly/machine.js",
      "lib/dynamic-providers/fly/machine-check.js",
    ]));
    const outside = packed.filter((file) => !/^lib\//.test(file) && !["package.json", "README.md"].includes(file));
    expect(outside).toEqual([]);
    expect(packed.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(packed.filter((file) => /^lib\/(test|bench|examples)\//.test(file) || file === "lib/index.js")).toEqual([]);
  });

  it('require("platform/components") loads the installed copy and exposes every component', () => {
    expect(constructed.resolved).toBe(path.join(installed, "lib", "components", "index.js"));
    for (const name of libraryExports) expect(constructed.exported[name], name).toBe("function");
  });

  it("every module under lib/ resolves through the exports map by the name the serializer gives it", () => {
    const consumerRequire = createRequire(path.join(consumer, "index.js"));
    const compiled = filesUnder(path.join(installed, "lib")).filter((file) => file.endsWith(".js"));
    expect(compiled.length).toBeGreaterThan(20);
    for (const file of compiled) {
      const specifier = `${packageJson.name}/lib/${file}`;
      expect(consumerRequire.resolve(specifier), specifier).toBe(path.join(installed, "lib", file));
    }
    // Only the exported paths: the package root and anything outside lib/ stay private.
    expect(() => consumerRequire.resolve(packageJson.name)).toThrow(/No "exports" main defined/);
  });

  /*
   * node16 follows `exports` and its `types` condition. The older `node` resolution ignores `exports`: without
   * `typesVersions` it fails with TS2307 "Cannot find module 'platform/components' … There are types at
   * '…/node_modules/platform/lib/components/index.d.ts', but this result could not be resolved under your
   * current 'moduleResolution' setting", so package.json maps `components` (and `config-kit`) there too.
   */
  it.each(["node16", "node"] as const)("a TypeScript consumer type-checks against platform/components (moduleResolution %s)", async (resolution) => {
    fs.writeFileSync(path.join(consumer, "index.ts"), consumerIndex);
    const config = `tsconfig.${resolution}.json`;
    fs.writeFileSync(path.join(consumer, config), consumerTsconfig(resolution));
    const result = await run(process.execPath, [tsc, "-p", config, "--traceResolution"], consumer, childEnv());
    const diagnostics = result.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
    expect(diagnostics).toEqual([]);
    expect(result.code).toBe(0);
    const resolvedLine = result.stdout.split("\n").find((line) => line.startsWith("======== Module name 'platform/components' was successfully resolved"));
    expect(resolvedLine).toContain(path.join(installed, "lib", "components", "index.d.ts"));
  });
});

describe("a FlyApp built from the installed package", () => {
  function dynamic(type: string): Constructed["registered"] {
    return constructed.registered.filter((resource) => resource.type === `pulumi-nodejs:dynamic/fly:${type}`);
  }

  it("serializes its Machine provider as require()s of platform/lib/**/*.js, not by value", () => {
    const machines = dynamic("Machine");
    expect(machines.map((machine) => machine.name)).toHaveLength(1);
    const text = providerText(machines[0].inputs);
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    expect(required).toContain(`${packageJson.name}/lib/dynamic-providers/fly/machine-check.js`);
    for (const specifier of required) expect(specifier).toMatch(/^platform\/lib\/[a-z0-9/-]+\.js$/);
    // By value, checkMachine's own body (its messages) would be in the text.
    expect(text).not.toContain("an existing Fly app name");
  });

  it("keeps the consumer's FLY_API_TOKEN, its secrets and its paths out of every serialized provider", () => {
    const providers = constructed.registered.filter((resource) => resource.type.startsWith("pulumi-nodejs:dynamic/"));
    expect(providers.map((resource) => resource.type)).toEqual(expect.arrayContaining(["pulumi-nodejs:dynamic/fly:App", "pulumi-nodejs:dynamic/fly:Machine", "pulumi-nodejs:dynamic/fly:Secrets"]));
    for (const resource of providers) {
      const text = providerText(resource.inputs);
      expect(text, resource.type).not.toContain(flyTokenCanary);
      expect(text, resource.type).not.toContain("hunter2-canary");
      expect(text, resource.type).not.toContain(tmp);
    }
  });

  it("a fresh process loads each provider as the dynamic-provider host does, and the Machine's check() names a bad field", async () => {
    const machine = dynamic("Machine")[0];
    const { __provider: _provider, ...machineInputs } = unwrapSecrets(machine.inputs) as Record<string, unknown>;
    const jobs = constructed.registered
      .filter((resource) => resource.type.startsWith("pulumi-nodejs:dynamic/"))
      .map((resource) => ({
        name: `${resource.type}::${resource.name}`,
        provider: providerText(resource.inputs),
        checks: resource === machine ? [machineInputs, { ...machineInputs, region: "Frankfurt" }] : [],
      }));
    fs.writeFileSync(path.join(tmp, "jobs.json"), JSON.stringify(jobs));
    fs.writeFileSync(path.join(consumer, "host.js"), hostScript);
    const out = path.join(tmp, "host.json");
    // No FLY_API_TOKEN here: check() needs none, and loading the provider must not either.
    await mustRun(process.execPath, ["--preserve-symlinks", "host.js", path.join(tmp, "jobs.json"), out], consumer, childEnv());
    const host = JSON.parse(fs.readFileSync(out, "utf8")) as HostResult;

    for (const result of host.results) expect(result.methods, result.name).toEqual(expect.arrayContaining(["check", "create", "delete", "diff", "read"]));
    const checked = host.results.find((result) => result.name === `pulumi-nodejs:dynamic/fly:Machine::${machine.name}`);
    expect(checked?.checks[0].failures).toEqual([]);
    expect(checked?.checks[0].inputs).toMatchObject({ appName: "consumer-web", region: "fra" });
    expect(checked?.checks[1].failures).toEqual([
      { property: "region", reason: expect.stringContaining('region must be a Fly region (one of ams, arn, atl') },
    ]);
    // The provider's require()s were answered by the installed copy, through its exports map.
    expect(host.loaded).toContain(path.join("node_modules", "platform", "lib", "dynamic-providers", "fly", "machine-check.js"));
  });
});
