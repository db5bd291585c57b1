/**
 * Runs index.ts under Pulumi's mock runtime for a committed stack file: the stack's `Pulumi.<stack>.yaml`, plus
 * what the README says each user sets (account ids, OAuth client ids, secrets), fed through setAllConfig as the
 * engine would. Every resource the program registers or reads is recorded with its type, name, inputs (secret
 * markers kept), parent, protect flag and direct dependencies; the mocks answer with provider-shaped outputs
 * and the production stack's outputs for the StackReference.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { parse } from "yaml";
import { flyOutputsFor } from "../components/fly-mocks";

export type StackName = "production" | "staging";
type Json = Record<string, unknown>;

export interface Registration {
  type: string;
  name: string;
  /** Parent URN; empty for the stack's direct children. */
  parent: string;
  protect: boolean;
  /** URNs of the direct dependencies. */
  dependencies: string[];
  /** Inputs as sent, secrets still wrapped (see isSecret / reveal); `__provider` left out. */
  inputs: Json;
  /** A read (`get`/StackReference) rather than a registration. */
  read: boolean;
  /** Structured aliases (`aliases: [{ name, parent }]`): the old name and the old parent's URN. */
  aliases: { name: string; parentUrn: string }[];
}

export interface StackRun {
  stack: StackName;
  registrations: Registration[];
  calls: pulumi.runtime.MockCallArgs[];
  /** index.ts's exports, as the module holds them (Outputs, plain values or undefined). */
  exports: Record<string, unknown>;
}

/** What each user sets per stack and never commits (README "How a user runs it", the stack files' comments). */
export const userProvided: Json = {
  cloudflare: { accountId: "0123456789abcdef0123456789abcdef", zoneId: "fedcba9876543210fedcba9876543210" },
  github: { repository: "naluma/content-pipeline" },
  wordpress: { baseUrl: "https://naluma.space" },
  dashboard: { access: { googleClientId: "google-client-id.apps.googleusercontent.com", githubClientId: "Iv1.0123456789abcdef" } },
};

/** Dummy secrets (`pulumi config set --secret platform:<key>`), the optional ones too so every seed secret is set. */
export const dummySecrets: Record<string, string> = {
  anthropicApiKey: "sk-ant-dummy-anthropic-7c1e",
  openaiApiKey: "sk-dummy-openai-5b2d",
  wpAppPassword: "dummy wpap pass 9f3a",
  ncbiApiKey: "dummy-ncbi-key-4e8b",
  braveApiKey: "dummy-brave-key-0a6c",
  r2AccessKeyId: "dummy-r2-access-key-id-2d7f",
  r2SecretAccessKey: "dummy-r2-secret-access-key-8c1b",
  slackWebhookUrl: "https://hooks.slack.com/services/dummy-slack-6e0a",
  langfusePublicKey: "pk-lf-dummy-3b9c",
  langfuseSecretKey: "sk-lf-dummy-1f4d",
  sentryDsn: "https://dummy-sentry-5a2e@o1.ingest.sentry.io/1",
  googleOauthClientSecret: "dummy-google-oauth-secret-7d3f",
  githubOauthClientSecret: "dummy-github-oauth-secret-0e5a",
};

/** What the production stack exports, as the StackReference of a branch stack reads it. */
export const productionOutputs = {
  neonProjectId: "prj-naluma-1",
  neonMainBranchId: "br-main-1",
  neonOwnerRoleName: "naluma_content_owner",
};

/** Credentials the mocked providers make; none may appear in a plain input or a plain export. */
export const generatedSecrets = {
  /** random.RandomPassword results end with this. */
  passwordSuffix: "-generated-password",
  deployToken: (resourceName: string): string => `FlyV1 fm2_dummy-deploy-token-${resourceName}`,
  neonOwnerPassword: "neon-owner-password-9x",
  cloudflareToken: "cf-dummy-pages-token-4k2",
};

export const accessAud = "aud-tag-3f9c2b";
export const pagesWriteGroupId = "pg-pages-write";

const organizationToken = "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization";
const permissionGroupsToken = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";

const dynamic = (service: string, name: string): string => `pulumi-nodejs:dynamic/${service}:${name}`;

/** The address the mocks give a Fly IpAddress resource: one per resource name, from a documentation range. */
export function egressIpOf(resourceName: string): string {
  let sum = 0;
  for (const char of resourceName) sum = (sum * 31 + char.charCodeAt(0)) % 250;
  return `192.0.2.${sum + 1}`;
}

/** Provider-shaped outputs; everything else echoes its inputs. */
function outputsFor(type: string, name: string, inputs: Json): Json {
  const fly = flyOutputsFor(type, name, inputs, { secretsVersion: 4, deployToken: generatedSecrets.deployToken, ip: egressIpOf });
  if (fly) return fly;
  switch (type) {
    case dynamic("neon", "Project"):
      return {
        projectId: productionOutputs.neonProjectId,
        defaultBranchId: productionOutputs.neonMainBranchId,
        defaultRoleName: `${String(inputs.defaultDatabaseName)}_owner`,
        ownerPassword: generatedSecrets.neonOwnerPassword,
      };
    case dynamic("neon", "Branch"):
      return { branchId: inputs.adopt ? productionOutputs.neonMainBranchId : `br-${String(inputs.name)}-2` };
    case dynamic("neon", "Role"):
      return { password: generatedSecrets.neonOwnerPassword };
    case dynamic("neon", "Endpoint"): {
      const endpoint = `ep-${String(inputs.branchId)}`;
      return { endpointId: endpoint, host: `${endpoint}.eu-central-1.aws.neon.tech`, poolerHost: `${endpoint}-pooler.eu-central-1.aws.neon.tech` };
    }
    case dynamic("neon", "ConnectionUri"): {
      const host = `${String(inputs.endpointId)}.eu-central-1.aws.neon.tech`;
      const path = `${String(inputs.databaseName)}?sslmode=require`;
      return {
        uri: `postgresql://${String(inputs.roleName)}:${generatedSecrets.neonOwnerPassword}@${host}/${path}`,
        pooledUri: `postgresql://${String(inputs.roleName)}:${generatedSecrets.neonOwnerPassword}@${host.replace(/^([^.]+)/, "$1-pooler")}/${path}`,
      };
    }
    case "random:index/randomPassword:RandomPassword":
      return { result: `${name}${generatedSecrets.passwordSuffix}` };
    case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
      return { aud: accessAud };
    case "cloudflare:index/pagesProject:PagesProject":
      return { subdomain: `${String(inputs.name)}.pages.dev` };
    case "cloudflare:index/accountToken:AccountToken":
      return { value: generatedSecrets.cloudflareToken };
    default:
      return {};
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Json, value) : value;
  return out;
}

/** A committed stack file's `platform:` keys without the prefix. */
export function stackValues(stack: StackName): Json {
  const file = parse(readFileSync(join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Json };
  return Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(/^platform:/, ""), value]));
}

/** The engine hands the program every `project:key` as text (objects as JSON) and names the secret ones. */
function setStackConfig(values: Json, secrets: Record<string, string>): void {
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) all[`platform:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  for (const [key, value] of Object.entries(secrets)) all[`platform:${key}`] = value;
  pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((key) => `platform:${key}`));
}

const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

/** The SDK's wire form of a secret, as the mock monitor is handed it. */
export function isSecret(value: unknown): value is { value: unknown } {
  return isObject(value) && value[secretSignatureKey] === secretSignature;
}

/** The value with every secret marker removed. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, reveal(inner)]));
  return value;
}

/** Every string in `value` that is not inside a secret, with its path. */
export function plainStrings(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (isSecret(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => plainStrings(item, `${path}[${index}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([key, inner]) => plainStrings(inner, path ? `${path}.${key}` : key));
  return [];
}

interface RequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect?(): boolean | undefined;
  getDependenciesList?(): string[];
  getObject?(): { toJavaScript(): Json } | undefined;
  getProperties?(): { toJavaScript(): Json } | undefined;
  getAdditionalsecretoutputsList?(): string[];
  getAliasesList?(): { getSpec(): { getName(): string; getParenturn(): string } | undefined }[];
}

type Callback = (error: unknown, response: unknown) => void;

interface PatchableMonitor {
  registerResource(req: RequestLike, callback: Callback): Promise<void>;
  readResource(req: RequestLike, callback: Callback): Promise<void>;
}

function record(registrations: Registration[], req: RequestLike, read: boolean): void {
  const raw = (read ? req.getProperties?.() : req.getObject?.())?.toJavaScript() ?? {};
  const { __provider: _provider, ...inputs } = raw;
  registrations.push({
    type: req.getType(),
    name: req.getName(),
    parent: req.getParent(),
    protect: req.getProtect?.() ?? false,
    dependencies: req.getDependenciesList?.() ?? [],
    inputs,
    read,
    aliases: (req.getAliasesList?.() ?? []).flatMap((alias) => {
      const spec = alias.getSpec();
      return spec ? [{ name: spec.getName(), parentUrn: spec.getParenturn() }] : [];
    }),
  });
}

/** Waits until no resource has registered for a few ticks (children made inside applies register late). */
async function settled(registrations: Registration[]): Promise<void> {
  let seen = -1;
  let quiet = 0;
  for (let round = 0; round < 500 && quiet < 5; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    quiet = registrations.length === seen ? quiet + 1 : 0;
    seen = registrations.length;
  }
}

/** Resolves an export: Outputs to `{ value, secret }`, plain values as they are. */
export async function exported(run: StackRun, name: string): Promise<{ value: unknown; secret: boolean }> {
  const value = run.exports[name];
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const output = value as pulumi.Output<unknown>;
  const resolved = await new Promise<unknown>((resolve) => output.apply(resolve));
  return { value: resolved, secret: await pulumi.isSecret(output) };
}

async function run(stack: StackName, extra: Json): Promise<StackRun> {
  setStackConfig(merge(merge(userProvided, stackValues(stack)), extra), dummySecrets);
  const registrations: Registration[] = [];
  const calls: pulumi.runtime.MockCallArgs[] = [];
  /** The engine marks `additionalSecretOutputs` secret (random's `result`, the dynamic resources' credentials); the mock monitor does not. */
  const secretOutputs = new Map<string, string[]>();
  const withSecrets = (type: string, name: string, state: Json): Json => {
    const names = secretOutputs.get(`${type}::${name}`) ?? [];
    return Object.fromEntries(Object.entries(state).map(([key, value]) => [key, names.includes(key) && value !== undefined ? pulumi.secret(value) : value]));
  };
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Json } {
        const inputs = args.inputs as Json;
        if (args.type === "pulumi:pulumi:StackReference") {
          return { id: String(args.id), state: { name: inputs.name, outputs: productionOutputs, secretOutputNames: [] } };
        }
        return { id: `${args.name}-id`, state: withSecrets(args.type, args.name, { ...inputs, ...outputsFor(args.type, args.name, inputs) }) };
      },
      call(args: pulumi.runtime.MockCallArgs): Json {
        calls.push(args);
        if (args.token === organizationToken) return { accountId: args.inputs.accountId, authDomain: "naluma.cloudflareaccess.com", name: "Naluma" };
        if (args.token === permissionGroupsToken) {
          return {
            results: [
              { id: "pg-pages-read", name: "Pages Read", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
              { id: pagesWriteGroupId, name: "Pages Write", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
            ],
          };
        }
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "platform",
    stack,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
  const register = monitor.registerResource.bind(monitor);
  const readResource = monitor.readResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    record(registrations, req, false);
    secretOutputs.set(`${req.getType()}::${req.getName()}`, req.getAdditionalsecretoutputsList?.() ?? []);
    return register(req, callback);
  };
  monitor.readResource = (req, callback) => {
    record(registrations, req, true);
    return readResource(req, callback);
  };

  vi.resetModules();
  const program = (await import("../../index")) as Record<string, unknown>;
  const exports = Object.fromEntries(Object.entries(program).filter(([key]) => key !== "default" && key !== "__esModule"));
  const result: StackRun = { stack, registrations, calls, exports };
  await Promise.all(Object.keys(exports).map((name) => exported(result, name)));
  await settled(registrations);
  return result;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs index.ts for one stack; runs are queued because the mock runtime is process-global. */
export function runStack(stack: StackName, extra: Json = {}): Promise<StackRun> {
  const next = queue.then(() => run(stack, extra));
  queue = next.catch(() => undefined);
  return next;
}

/** The one registration of `type` named `name`; fails listing what there is. */
export function resource(run: StackRun, type: string, name: string): Registration {
  const found = run.registrations.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = run.registrations.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(`${run.stack}: expected one ${type} '${name}', found ${found.length} (of that type: ${names.join(", ") || "none"})`);
  }
  return found[0];
}

export function resourcesOf(run: StackRun, type: string): Registration[] {
  return run.registrations.filter((r) => r.type === type);
}

export const types = {
  flyApp: dynamic("fly", "App"),
  flyMachine: dynamic("fly", "Machine"),
  flySecrets: dynamic("fly", "Secrets"),
  flyCertificate: dynamic("fly", "Certificate"),
  flyDeployToken: dynamic("fly", "DeployToken"),
  flyMachineExec: dynamic("fly", "MachineExec"),
  neonProject: dynamic("neon", "Project"),
  neonIpAllowList: dynamic("neon", "IpAllowList"),
  flyIpAddress: dynamic("fly", "IpAddress"),
  neonBranch: dynamic("neon", "Branch"),
  neonEndpoint: dynamic("neon", "Endpoint"),
  neonDatabase: dynamic("neon", "Database"),
  neonRole: dynamic("neon", "Role"),
  neonConnectionUri: dynamic("neon", "ConnectionUri"),
  postgresRole: dynamic("postgres", "Role"),
  postgresGrant: dynamic("postgres", "Grant"),
  postgresLockdown: dynamic("postgres", "DatabaseLockdown"),
  stackReference: "pulumi:pulumi:StackReference",
  dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
  accessApplication: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  accessPolicy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
  identityProvider: "cloudflare:index/zeroTrustAccessIdentityProvider:ZeroTrustAccessIdentityProvider",
  pagesProject: "cloudflare:index/pagesProject:PagesProject",
  accountToken: "cloudflare:index/accountToken:AccountToken",
  actionsSecret: "github:index/actionsSecret:ActionsSecret",
  actionsEnvironmentSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  repositoryEnvironment: "github:index/repositoryEnvironment:RepositoryEnvironment",
} as const;
