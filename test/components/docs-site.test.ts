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

function unwrap(value: unknown): unknown {
  return isSecretInput(value) ? unwrap(value.value) : value;
}

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
const pagesProject = "cloudflare:index/pagesProject:PagesProject";
const accountToken = "cloudflare:index/accountToken:AccountToken";
const actionsSecret = "github:index/actionsSecret:ActionsSecret";

describe("DocsSite with seed 000's docs site and its two Actions secrets", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("docs", {
      accountId,
      projectName: "naluma-content-automation",
      githubSecrets: { repository: "naluma-content-pipeline", apiTokenName: "CLOUDFLARE_API_TOKEN", accountIdName: "CLOUDFLARE_ACCOUNT_ID" },
    });
  });

  it("creates the Pages project, one account token and two Actions secrets, all children of the component", async () => {
    expect(built.children.map((child) => child.type).sort()).toEqual([accountToken, pagesProject, actionsSecret, actionsSecret].sort());
    for (const child of built.children) expect(await valueOf(child.resource.urn)).toContain(`platform:index:DocsSite$${child.type}::`);
  });

  it("names the Pages project as given, production branch main by default, no Git source (direct upload)", () => {
    const project = inputsOf(pagesProject, "docs-pages");
    expect(project).toEqual({ accountId, name: "naluma-content-automation", productionBranch: "main" });
  });

  it("looks the permission group up by its plain name on the account (the provider's SDK URL-encodes query values itself)", () => {
    const lookup = calls.find((call) => call.token === permissionGroupsToken);
    // Pre-encoded, the provider would send `Pages%2520Write` and Cloudflare would find no group of that name.
    expect(lookup?.inputs).toMatchObject({ accountId, name: "Pages Write" });
  });

  it("gives the token only Pages Write, only on this account", () => {
    const token = inputsOf(accountToken, "docs-deploy-token");
    expect(token).toMatchObject({ accountId, name: "naluma-content-automation Pages deploy (GitHub Actions)" });
    const policies = token.policies as { effect: string; permissionGroups: { id: string }[]; resources: string }[];
    expect(policies).toHaveLength(1);
    expect(policies[0].effect).toBe("allow");
    expect(policies[0].permissionGroups).toEqual([{ id: "pg-pages-write" }]);
    expect(JSON.parse(policies[0].resources)).toEqual({ [`com.cloudflare.api.account.${accountId}`]: "*" });
  });

  it("stores CLOUDFLARE_ACCOUNT_ID and the new token (secret) under the names given", () => {
    const accountSecret = inputsOf(actionsSecret, "docs-account-id");
    expect(accountSecret).toMatchObject({ repository: "naluma-content-pipeline", secretName: "CLOUDFLARE_ACCOUNT_ID" });
    expect(unwrap(accountSecret.value)).toBe(accountId);
    const tokenSecret = inputsOf(actionsSecret, "docs-api-token");
    expect(tokenSecret).toMatchObject({ repository: "naluma-content-pipeline", secretName: "CLOUDFLARE_API_TOKEN" });
    expect(isSecretInput(tokenSecret.value)).toBe(true);
    expect(unwrap(tokenSecret.value)).toBe("cf-token-value");
  });

  it("never hands the token value to any resource outside a secret", () => {
    const plain = [...registered.values()].flatMap((resource) => plainStrings(resource.inputs));
    expect(plain.some((value) => value.includes("cf-token-value"))).toBe(false);
  });

  it("outputs the pages.dev URL and the project name, not secret, and no branch URLs", async () => {
    expect(await valueOf(built.component.url)).toBe("https://naluma-content-automation.pages.dev");
    expect(await valueOf(built.component.projectName)).toBe("naluma-content-automation");
    expect(await valueOf(built.component.branchUrls)).toEqual({});
    expect(await pulumi.isSecret(built.component.url)).toBe(false);
  });
});

describe("DocsSite with seed 002's frontend: a staging branch and CF_API_TOKEN only", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("frontend", {
      accountId,
      projectName: "nuzantara",
      productionBranch: "production",
      previewBranches: ["staging", "Feature/New_UI"],
      githubSecrets: { repository: "nuzantara", apiTokenName: "CF_API_TOKEN" },
      tokenName: "nuzantara CI",
    });
  });

  it("makes the project with its production branch, the token and only the token's Actions secret", () => {
    expect(built.children.map((child) => child.type).sort()).toEqual([accountToken, pagesProject, actionsSecret].sort());
    expect(inputsOf(pagesProject, "frontend-pages")).toMatchObject({ name: "nuzantara", productionBranch: "production" });
    expect(registered.has(`${actionsSecret}::frontend-account-id`)).toBe(false);
    const tokenSecret = inputsOf(actionsSecret, "frontend-api-token");
    expect(tokenSecret).toMatchObject({ repository: "nuzantara", secretName: "CF_API_TOKEN" });
    expect(isSecretInput(tokenSecret.value)).toBe(true);
  });

  it("names the token as asked", () => {
    expect(inputsOf(accountToken, "frontend-deploy-token").name).toBe("nuzantara CI");
  });

  it("outputs each preview branch at https://<branch alias>.<project>.pages.dev", async () => {
    expect(await valueOf(built.component.url)).toBe("https://nuzantara.pages.dev");
    expect(await valueOf(built.component.branchUrls)).toEqual({
      staging: "https://staging.nuzantara.pages.dev",
      "Feature/New_UI": "https://feature-new-ui.nuzantara.pages.dev",
    });
    expect(await pulumi.isSecret(built.component.branchUrls)).toBe(false);
  });
});

describe("DocsSite without githubSecrets", () => {
  it("makes the Pages project only: no token, no permission lookup, no Actions secret", async () => {
    const lookupsBefore = calls.filter((call) => call.token === permissionGroupsToken).length;
    const built = await build("site", { accountId, projectName: "acme-docs" });
    expect(built.children.map((child) => [child.type, child.name])).toEqual([[pagesProject, "site-pages"]]);
    expect(calls.filter((call) => call.token === permissionGroupsToken)).toHaveLength(lookupsBefore);
    expect(await valueOf(built.component.url)).toBe("https://acme-docs.pages.dev");
  });
});

describe("DocsSite arguments", () => {
  const base: DocsSiteArgs = { accountId, projectName: "acme-docs", githubSecrets: { repository: "docs", apiTokenName: "CF_API_TOKEN" } };
  it.each<[string, Partial<DocsSiteArgs>, string]>([
    ["a preview branch that is no branch name", { previewBranches: ["-staging"] }, "DocsSite 'bad': previewBranches: '-staging' is not a git branch name"],
    ["a preview branch with a space", { previewBranches: ["my branch"] }, "previewBranches: 'my branch' is not a git branch name"],
    ["a secret name with a dash", { githubSecrets: { repository: "docs", apiTokenName: "CF-API-TOKEN" } }, 'githubSecrets.apiTokenName must be a GitHub secret name (letters, digits, _), got "CF-API-TOKEN"'],
    ["a secret name GitHub reserves", { githubSecrets: { repository: "docs", apiTokenName: "CF_API_TOKEN", accountIdName: "GITHUB_ACCOUNT" } }, "githubSecrets.accountIdName: GitHub reserves names starting with GITHUB_"],
    ["one name for both secrets", { githubSecrets: { repository: "docs", apiTokenName: "CF", accountIdName: "CF" } }, "githubSecrets: apiTokenName and accountIdName are the same name"],
  ])("refuses %s, before registering anything", async (_title, change, message) => {
    const before = registered.size;
    expect(() => new DocsSite("bad", { ...base, ...change })).toThrow(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registered.size).toBe(before);
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
