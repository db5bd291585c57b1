import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { CloudflareWorker as CloudflareWorkerClass, CloudflareWorkerArgs } from "../../components/cloudflare-worker";
import { routePatternProblem } from "../../components/cloudflare-worker";
import { isSecretValue, valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks, type Child } from "./recording-mocks";

const scriptType = "cloudflare:index/workersScript:WorkersScript";
const routeType = "cloudflare:index/workersRoute:WorkersRoute";
const subdomainType = "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain";

const { registered, install } = recordingMocks();

let CloudflareWorker: typeof CloudflareWorkerClass;

beforeAll(async () => {
  await install();
  ({ CloudflareWorker } = await import("../../components/cloudflare-worker"));
});

interface Built {
  component: CloudflareWorkerClass;
  children: Child[];
}

function build(name: string, args: CloudflareWorkerArgs): Promise<Built> {
  return constructRecording((opts) => new CloudflareWorker(name, args, opts));
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

interface Binding {
  name: string;
  type: string;
  text?: unknown;
  bucketName?: unknown;
  jurisdiction?: unknown;
}

/** The script's bindings; a list holding a secret arrives as one secret (the SDK marks the whole input). */
function bindingsOf(name: string): { secret: boolean; bindings: Binding[] } {
  const sent = inputsOf(scriptType, `${name}-script`).bindings;
  return isSecretValue(sent) ? { secret: true, bindings: sent.value as Binding[] } : { secret: false, bindings: sent as Binding[] };
}

/** Every string in `value` that is not inside a secret. */
function plainStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (isSecretValue(value) || typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(plainStrings);
}

const accountId = "023e105f4ecef8ad9ca31a8372d0c353";
const zoneId = "9a7806061c88ada191ed06f989cc3dac";
const fixture = "test/fixtures/worker/proxy.js";

/** Stands in for the FlyApps' outputs (`pulumi.interpolate\`https://${app.hostname}\``): known only once the apps exist. */
const flyUrl = (app: string): pulumi.Output<string> => pulumi.output(`${app}.fly.dev`).apply((hostname) => `https://${hostname}`);

/** Seed 002's wrangler.toml `nuzantara-proxy`, with a secret added. */
const seed002Proxy = (): CloudflareWorkerArgs => ({
  accountId,
  name: "nuzantara-proxy",
  scriptPath: fixture,
  compatibilityDate: "2025-01-01",
  vars: { BACKEND_TS_URL: flyUrl("nuzantara-backend"), BACKEND_RAG_URL: flyUrl("nuzantara-rag") },
  secrets: { PROXY_SHARED_KEY: "s3cr3t-proxy-key" },
  routes: [{ pattern: "api.nuzantara.com/*", zoneId }],
});

describe("CloudflareWorker: seed 002's nuzantara-proxy", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("proxy", seed002Proxy());
  });

  it("creates the script and one route, both children of the component, and no workers.dev setting", async () => {
    expect(built.children.map((child) => child.type).sort()).toEqual([routeType, scriptType].sort());
    for (const child of built.children) expect(await valueOf(child.resource.urn)).toContain(`platform:index:CloudflareWorker$${child.type}::`);
    expect(registered.has(`${subdomainType}::proxy-workers-dev`)).toBe(false);
  });

  it("uploads the program's file as an ES module named after it, with the compatibility date", () => {
    const script = inputsOf(scriptType, "proxy-script");
    expect(script).toMatchObject({ accountId, scriptName: "nuzantara-proxy", mainModule: "proxy.js", compatibilityDate: "2025-01-01", compatibilityFlags: [] });
    expect(script.content).toBe(fs.readFileSync(path.resolve(fixture), "utf8"));
    expect(script).not.toHaveProperty("bodyPart");
  });

  it("binds the vars as plain text with the Fly apps' URLs once they are known", () => {
    const { bindings } = bindingsOf("proxy");
    expect(bindings.filter((binding) => binding.type === "plain_text")).toEqual([
      { name: "BACKEND_TS_URL", type: "plain_text", text: "https://nuzantara-backend.fly.dev" },
      { name: "BACKEND_RAG_URL", type: "plain_text", text: "https://nuzantara-rag.fly.dev" },
    ]);
  });

  it("binds the secret as secret text: the bindings are sent as a Pulumi secret and the value is nowhere in plain", () => {
    const { secret, bindings } = bindingsOf("proxy");
    expect(secret).toBe(true);
    expect(bindings.find((binding) => binding.name === "PROXY_SHARED_KEY")).toEqual({ name: "PROXY_SHARED_KEY", type: "secret_text", text: "s3cr3t-proxy-key" });
    const plain = [...registered.values()].flatMap((resource) => plainStrings(resource.inputs));
    expect(plain.some((value) => value.includes("s3cr3t-proxy-key"))).toBe(false);
  });

  it("routes api.nuzantara.com/* in the zone to the script", () => {
    expect(inputsOf(routeType, "proxy-route-api.nuzantara.com/*")).toEqual({ zoneId, pattern: "api.nuzantara.com/*", script: "nuzantara-proxy" });
  });

  it("outputs the script name and the route patterns", async () => {
    expect(await valueOf(built.component.scriptName)).toBe("nuzantara-proxy");
    expect(await valueOf(built.component.routes)).toEqual(["api.nuzantara.com/*"]);
  });
});

describe("CloudflareWorker: other shapes", () => {
  it("takes code as `content`, service-worker syntax as the body part, flags and R2 buckets by name or with a jurisdiction", async () => {
    const bucketName = pulumi.output("media");
    await build("inline", {
      accountId,
      name: "inline-worker",
      content: "addEventListener('fetch', (event) => event.respondWith(new Response('ok')));",
      module: false,
      compatibilityDate: "2024-09-23",
      compatibilityFlags: ["nodejs_compat"],
      r2Buckets: { MEDIA: bucketName, ARCHIVE: { bucketName: "archive-eu", jurisdiction: "eu" } },
    });
    const script = inputsOf(scriptType, "inline-script");
    expect(script).toMatchObject({ bodyPart: "worker.js", compatibilityFlags: ["nodejs_compat"] });
    expect(script).not.toHaveProperty("mainModule");
    expect(script.content).toContain("addEventListener('fetch'");
    expect(bindingsOf("inline")).toEqual({ secret: false, bindings: [
      { name: "MEDIA", type: "r2_bucket", bucketName: "media" },
      { name: "ARCHIVE", type: "r2_bucket", bucketName: "archive-eu", jurisdiction: "eu" },
    ] });
  });

  it.each([true, false])("manages the workers.dev setting when workersDev is %s", async (workersDev) => {
    const name = `dev-${workersDev}`;
    const { component, children } = await build(name, { accountId, name: `dev-${workersDev}-worker`, content: "export default {};", compatibilityDate: "2025-01-01", workersDev });
    expect(children.map((child) => child.type).sort()).toEqual([scriptType, subdomainType].sort());
    expect(inputsOf(subdomainType, `${name}-workers-dev`)).toEqual({ accountId, scriptName: `dev-${workersDev}-worker`, enabled: workersDev });
    expect(await valueOf(component.routes)).toEqual([]);
  });

  it("fails naming the script path, as given and resolved, when the file is missing", () => {
    expect(() => new CloudflareWorker("missing", { ...seed002Proxy(), scriptPath: "src/no-such-worker.js" })).toThrow(
      `CloudflareWorker 'missing': scriptPath 'src/no-such-worker.js' cannot be read (resolved to ${path.resolve("src/no-such-worker.js")}): ENOENT`,
    );
    expect([...registered.keys()].some((key) => key.includes("missing"))).toBe(false);
  });
});

describe("CloudflareWorker: bad arguments are refused before anything is created", () => {
  const cases: [string, Partial<CloudflareWorkerArgs>, RegExp][] = [
    ["an uppercase name", { name: "Nuzantara-Proxy" }, /name must be 1-63 lowercase letters.*got 'Nuzantara-Proxy'/],
    ["both scriptPath and content", { content: "export default {};" }, /only one of `scriptPath` or `content` can be provided/],
    ["neither scriptPath nor content", { scriptPath: undefined }, /only one of `scriptPath` or `content` can be provided, and one is required/],
    ["a compatibility date in another format", { compatibilityDate: "2025/01/01" }, /compatibilityDate must be a date as YYYY-MM-DD.*got '2025\/01\/01'/],
    ["an impossible compatibility date", { compatibilityDate: "2025-02-30" }, /compatibilityDate must be a date as YYYY-MM-DD.*got '2025-02-30'/],
    ["a route with a scheme", { routes: [{ pattern: "https://api.nuzantara.com/*", zoneId }] }, /routes\[0\]\.pattern must not contain a scheme.*got 'https:\/\/api\.nuzantara\.com\/\*'/],
    ["a route without a path", { routes: [{ pattern: "api.nuzantara.com", zoneId }] }, /routes\[0\]\.pattern must be `host\/path`.*got 'api\.nuzantara\.com'/],
    ["a route with an infix wildcard", { routes: [{ pattern: "api.nuzantara.com/*.jpg", zoneId }] }, /routes\[0\]\.pattern must be `host\/path`/],
    ["a route with a query", { routes: [{ pattern: "api.nuzantara.com/?x=*", zoneId }] }, /routes\[0\]\.pattern must not contain a query/],
    [
      "a route listed twice",
      { routes: [{ pattern: "api.nuzantara.com/*", zoneId }, { pattern: "api.nuzantara.com/*", zoneId }] },
      /routes\[1\]\.pattern 'api\.nuzantara\.com\/\*' is listed twice/,
    ],
    ["a var named like no identifier", { vars: { "BACKEND-URL": "https://x.fly.dev" } }, /vars: binding name 'BACKEND-URL' must be letters, digits and _/],
    ["a secret starting with a digit", { secrets: { "1KEY": "x" } }, /secrets: binding name '1KEY' must be letters/],
    ["a var and a secret of one name", { vars: { API_KEY: "a" }, secrets: { API_KEY: "b" } }, /secrets: binding 'API_KEY' is also in `vars`/],
    ["an R2 binding that shadows a var", { vars: { MEDIA: "a" }, r2Buckets: { MEDIA: "media" } }, /r2Buckets: binding 'MEDIA' is also in `vars`/],
  ];

  it.each(cases)("refuses %s", (label, override, message) => {
    const name = `bad-${label.replace(/\W+/g, "-")}`;
    const args = { ...seed002Proxy(), ...override } as CloudflareWorkerArgs;
    expect(() => new CloudflareWorker(name, args)).toThrow(new RegExp(`^CloudflareWorker '${name}': ${message.source}`));
    expect([...registered.keys()].some((key) => key.includes(name))).toBe(false);
  });
});

describe("routePatternProblem", () => {
  it.each(["api.nuzantara.com/*", "*.example.com/*", "*example.com/images/*", "example.com/", "sub.example.co.uk/path", "example.com/path*"])(
    "accepts %s",
    (pattern) => expect(routePatternProblem(pattern)).toBeUndefined(),
  );
  it.each(["http://example.com/*", "example.com", "/path/*", "exa mple.com/*", "example.com/a*/b", "ex*ample.com/*"])("refuses %s", (pattern) =>
    expect(routePatternProblem(pattern)).toBeDefined(),
  );
});
