import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { DocsSite as DocsSiteClass, DocsSiteArgs } from "../../components/docs-site";
import { permissionGroupId } from "../../components/docs-site";
import { isSecretValue as isSecretInput, valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks } from "./recording-mocks";

const permissionGroupsToken = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";
/** What the lookup answers: a name filter on Cloudflare's side is a substring match, so neighbours come back too. */
const permissionGroups = [
  { id: "pg-pages-read", name: "Pages Read", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
  { id: "pg-pages-write", name: "Pages Write", category: "developer_platform", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
];

/** Every string in `value` that is not inside a secret. */
function plainStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (isSecretInput(value) || typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(plainStrings);
}

const { registered, calls, install } = recordingMocks({
  outputsFor: (type, _name, inputs) =>
    type === "cloudflare:index/pagesProject:PagesProject"
      ? { subdomain: `${String(inputs.name)}.pages.dev` }
      : type === "cloudflare:index/accountToken:AccountToken"
        ? { value: "cf-token-value" }
        : {},
  call: (args) => (args.token === permissionGroupsToken ? { results: permissionGroups } : undefined),
});

let DocsSite: typeof DocsSiteClass;

beforeAll(async () => {
  await install();
  ({ DocsSite } = await import("../../components/docs-site"));
});

interface Built {
  component: DocsSiteClass;
  children: { resource: pulumi.Resource; type: string; name: string }[];
}

function build(name: string, args: DocsSiteArgs): Promise<Built> {
  return constructRecording((opts) => new DocsSite(name, args, opts));
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

const accountId = "023e105f4ecef8ad9ca31a8372d0c353";
const actionsSecret = "github:index/actionsSecret:ActionsSecret";

describe("DocsSite", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("docs", { accountId, repository: "naluma-content-pipeline" });
  });

  it("creates the Pages project, one account token and two Actions secrets, all children of the component", async () => {
    expect(built.children.map((child) => child.type).sort()).toEqual(
      ["cloudflare:index/accountToken:AccountToken", "cloudflare:index/pagesProject:PagesProject", actionsSecret, actionsSecret].sort(),
    );
    for (const child of built.children) expect(await valueOf(child.resource.urn)).toContain(`platform:index:DocsSite$${child.type}::`);
  });

  it("names the Pages project after seed 000 with production branch main", () => {
    expect(inputsOf("cloudflare:index/pagesProject:PagesProject", "docs-pages")).toMatchObject({
      accountId,
      name: "naluma-content-automation",
      productionBranch: "main",
    });
  });

  it("looks the permission group up by its plain name on the account (the provider's SDK URL-encodes query values itself)", () => {
    const lookup = calls.find((call) => call.token === permissionGroupsToken);
    // Pre-encoded, the provider would send `Pages%2520Write` and Cloudflare would find no group of that name.
    expect(lookup?.inputs).toMatchObject({ accountId, name: "Pages Write" });
  });

  it("gives the token only Pages Write, only on this account", () => {
    const token = inputsOf("cloudflare:index/accountToken:AccountToken", "docs-deploy-token");
    expect(token).toMatchObject({ accountId, name: "naluma-content-automation Pages deploy (GitHub Actions)" });
    const policies = token.policies as { effect: string; permissionGroups: { id: string }[]; resources: string }[];
    expect(policies).toHaveLength(1);
    expect(policies[0].effect).toBe("allow");
    expect(policies[0].permissionGroups).toEqual([{ id: "pg-pages-write" }]);
    expect(JSON.parse(policies[0].resources)).toEqual({ [`com.cloudflare.api.account.${accountId}`]: "*" });
  });

  it("stores CLOUDFLARE_ACCOUNT_ID and the new token (secret) as Actions secrets of the repository", () => {
    const accountSecret = inputsOf(actionsSecret, "docs-account-id");
    expect(accountSecret).toMatchObject({ repository: "naluma-content-pipeline", secretName: "CLOUDFLARE_ACCOUNT_ID" });
    expect((accountSecret.value as { value: unknown }).value).toBe(accountId);
    const tokenSecret = inputsOf(actionsSecret, "docs-api-token");
    expect(tokenSecret).toMatchObject({ repository: "naluma-content-pipeline", secretName: "CLOUDFLARE_API_TOKEN" });
    expect(isSecretInput(tokenSecret.value)).toBe(true);
    expect((tokenSecret.value as { value: unknown }).value).toBe("cf-token-value");
  });

  it("never hands the token value to any resource outside a secret", () => {
    const plain = [...registered.values()].flatMap((resource) => plainStrings(resource.inputs));
    expect(plain).not.toContain("cf-token-value");
    expect(plain.some((value) => value.includes("cf-token-value"))).toBe(false);
  });

  it("outputs the pages.dev URL and the project name", async () => {
    expect(await valueOf(built.component.url)).toBe("https://naluma-content-automation.pages.dev");
    expect(await valueOf(built.component.projectName)).toBe("naluma-content-automation");
    expect(await pulumi.isSecret(built.component.url)).toBe(false);
  });
});

describe("permissionGroupId", () => {
  it("picks the group of exactly that name", () => {
    expect(permissionGroupId(permissionGroups, "Pages Write", "docs site 'docs'")).toBe("pg-pages-write");
  });

  it("fails with a message that says what the Pulumi token lacks", () => {
    expect(() => permissionGroupId([permissionGroups[0]], "Pages Write", "docs site 'docs'")).toThrow(
      /docs site 'docs': Cloudflare lists no API token permission group 'Pages Write' for this account \(found: Pages Read\); .*Account API Tokens Read/,
    );
  });
});
