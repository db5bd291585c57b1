/**
 * Provider-shaped outputs and invoke results for the mock runtime, shared by every program's stack tests:
 * the Fly, Neon, random and Cloudflare resources answer the way the real providers do, with values the
 * tests can name (generated credentials, ids, addresses).
 */
import type * as pulumi from "@pulumi/pulumi";
import { flyOutputsFor } from "../components/fly-mocks";

type Json = Record<string, unknown>;

const dynamic = (service: string, name: string): string => `pulumi-nodejs:dynamic/${service}:${name}`;

/** The ids the Neon mocks give the project (one project per run) and its default branch. */
export const neonIds = {
  projectId: "prj-naluma-1",
  mainBranchId: "br-main-1",
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

/** The address the mocks give a Fly IpAddress resource: one per resource name, from a documentation range. */
export function egressIpOf(resourceName: string): string {
  let sum = 0;
  for (const char of resourceName) sum = (sum * 31 + char.charCodeAt(0)) % 250;
  return `192.0.2.${sum + 1}`;
}

/** Provider-shaped outputs by resource type; `{}` for a type whose outputs echo its inputs. */
export function providerOutputsFor(type: string, name: string, inputs: Json): Json {
  const fly = flyOutputsFor(type, name, inputs, { secretsVersion: 4, deployToken: generatedSecrets.deployToken, ip: egressIpOf });
  if (fly) return fly;
  switch (type) {
    case dynamic("neon", "Project"):
      return {
        projectId: neonIds.projectId,
        defaultBranchId: neonIds.mainBranchId,
        defaultRoleName: `${String(inputs.defaultDatabaseName)}_owner`,
        ownerPassword: generatedSecrets.neonOwnerPassword,
      };
    case dynamic("neon", "Branch"):
      return { branchId: inputs.adopt ? neonIds.mainBranchId : `br-${String(inputs.name)}-2` };
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

const organizationToken = "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization";
const permissionGroupsToken = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";

/** Cloudflare's invokes (the Zero Trust organization, the API token permission groups); undefined for any other. */
export function providerCall(args: pulumi.runtime.MockCallArgs): Json | undefined {
  if (args.token === organizationToken) return { accountId: args.inputs.accountId, authDomain: "naluma.cloudflareaccess.com", name: "Naluma" };
  if (args.token === permissionGroupsToken) {
    return {
      results: [
        { id: "pg-pages-read", name: "Pages Read", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
        { id: pagesWriteGroupId, name: "Pages Write", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
      ],
    };
  }
  return undefined;
}

export const types = {
  flyApp: dynamic("fly", "App"),
  flyMachine: dynamic("fly", "Machine"),
  flySecrets: dynamic("fly", "Secrets"),
  flyCertificate: dynamic("fly", "Certificate"),
  flyDeployToken: dynamic("fly", "DeployToken"),
  flyMachineExec: dynamic("fly", "MachineExec"),
  flyVolume: dynamic("fly", "Volume"),
  flyReleaseCommand: dynamic("fly", "ReleaseCommand"),
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
  repositoryRuleset: "github:index/repositoryRuleset:RepositoryRuleset",
  randomPassword: "random:index/randomPassword:RandomPassword",
  randomBytes: "random:index/randomBytes:RandomBytes",
} as const;
