import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";

/** The one permission the deploy workflow needs (`wrangler pages deploy`): Cloudflare's "Pages Write" group. */
export const pagesWritePermissionGroup = "Pages Write";

/** The id of the permission group called exactly `groupName` (Cloudflare's name filter also returns near matches). */
export function permissionGroupId(results: readonly { id: string; name: string }[], groupName: string, who: string): string {
  const group = results.find((candidate) => candidate.name === groupName);
  if (!group) {
    const names = results.map((candidate) => candidate.name).join(", ") || "none";
    throw new Error(
      `${who}: Cloudflare lists no API token permission group '${groupName}' for this account (found: ${names}); ` +
        "the token running Pulumi needs `Account API Tokens Read` on the account",
    );
  }
  return group.id;
}

/** The GitHub Actions secrets a deploy workflow reads, under the names the program picks. */
export interface DocsSiteGitHubSecretsArgs {
  /** Repository name (the owner comes from the github provider). @example `"acme-app"` */
  repository: pulumi.Input<string>;
  /** Secret that receives the Pages-only API token, e.g. `CLOUDFLARE_API_TOKEN`. */
  apiTokenName: string;
  /** Secret that receives the account id, e.g. `CLOUDFLARE_ACCOUNT_ID` (seed 000). @default none */
  accountIdName?: string;
}

export interface DocsSiteArgs {
  /** Cloudflare account id. */
  accountId: pulumi.Input<string>;
  /** Pages project name, e.g. `acme-docs`. */
  projectName: pulumi.Input<string>;
  /** Branch whose deployments are production. @default `"main"` (GitHub's default branch name) */
  productionBranch?: pulumi.Input<string>;
  /**
   * Other branches the workflow deploys (`wrangler pages deploy --branch staging`); each is served at
   * `https://<branch>.<project>.pages.dev` (seed 002's staging frontend), listed in `branchUrls`. @default `[]`
   */
  previewBranches?: string[];
  /** Store a Pages-only deploy token (and the account id) as GitHub Actions secrets. @default none */
  githubSecrets?: DocsSiteGitHubSecretsArgs;
  /** Name of the Cloudflare API token made for the workflow. @default `<projectName> Pages deploy (GitHub Actions)` */
  tokenName?: pulumi.Input<string>;
}

function checkArgs(name: string, args: DocsSiteArgs): void {
  const fail = (message: string): never => {
    throw new Error(`DocsSite '${name}': ${message}`);
  };
  for (const branch of args.previewBranches ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch)) fail(`previewBranches: '${branch}' is not a git branch name`);
  }
  const secrets = args.githubSecrets;
  if (secrets) {
    for (const [field, secret] of [["apiTokenName", secrets.apiTokenName], ["accountIdName", secrets.accountIdName]] as const) {
      if (secret !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(secret)) fail(`githubSecrets.${field} must be a GitHub secret name (letters, digits, _), got ${JSON.stringify(secret)}`);
      if (secret !== undefined && /^GITHUB_/i.test(secret)) fail(`githubSecrets.${field}: GitHub reserves names starting with GITHUB_`);
    }
    if (secrets.apiTokenName === secrets.accountIdName) fail("githubSecrets: apiTokenName and accountIdName are the same name");
  }
}

/** Cloudflare serves a branch deployment at `<branch>.<project>.pages.dev`, the branch lower-cased with other characters as dashes. */
export function branchAlias(branch: string): string {
  return branch.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

/**
 * A Cloudflare Pages project that CI deploys to by direct upload (`wrangler pages deploy`), with a Pages-only
 * API token made for the workflow and stored as GitHub Actions secrets: nobody pastes their own token into
 * GitHub. Seed 000's docs site and seed 002's frontend.
 *
 * @example
 * new DocsSite("frontend", {
 *   accountId, projectName: "acme-web", previewBranches: ["staging"],
 *   githubSecrets: { repository: "acme-web", apiTokenName: "CLOUDFLARE_API_TOKEN" },
 * });
 */
export class DocsSite extends pulumi.ComponentResource {
  /** `https://<subdomain>`; Cloudflare gives `<projectName>.pages.dev`, or a suffixed name when that is taken. */
  public readonly url: pulumi.Output<string>;
  public readonly projectName: pulumi.Output<string>;
  /** `previewBranches` → `https://<branch>.<subdomain>`. */
  public readonly branchUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: DocsSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("platform:index:DocsSite", name, {}, opts);

    // Direct upload: the workflow builds the site and deploys it with wrangler, so no `source` (Git integration).
    const project = new cloudflare.PagesProject(
      `${name}-pages`,
      { accountId: args.accountId, name: args.projectName, productionBranch: args.productionBranch ?? "main" },
      { parent: this },
    );
    const secrets = args.githubSecrets;
    if (secrets) {
      const token = this.createDeployToken(name, args, args.projectName);
      if (secrets.accountIdName) {
        new github.ActionsSecret(
          `${name}-account-id`,
          { repository: secrets.repository, secretName: secrets.accountIdName, value: args.accountId },
          { parent: this },
        );
      }
      new github.ActionsSecret(
        `${name}-api-token`,
        { repository: secrets.repository, secretName: secrets.apiTokenName, value: pulumi.secret(token.value) },
        { parent: this },
      );
    }

    this.projectName = project.name;
    this.url = pulumi.interpolate`https://${project.subdomain}`;
    this.branchUrls = project.subdomain.apply((subdomain) =>
      Object.fromEntries((args.previewBranches ?? []).map((branch) => [branch, `https://${branchAlias(branch)}.${subdomain}`])),
    );
    this.registerOutputs({ url: this.url, projectName: this.projectName, branchUrls: this.branchUrls });
  }

  /** An account-owned token (it outlives whoever ran `pulumi up`) with "Pages Write" on this account and nothing else. */
  private createDeployToken(name: string, args: DocsSiteArgs, projectName: pulumi.Input<string>): cloudflare.AccountToken {
    const groups = cloudflare.getAccountApiTokenPermissionGroupsListOutput(
      // The plain name: the provider's SDK URL-encodes query values itself, so a pre-encoded one arrives as `Pages%20Write`.
      { accountId: args.accountId, name: pagesWritePermissionGroup },
      { parent: this },
    );
    const pagesWrite = groups.results.apply((results) => permissionGroupId(results, pagesWritePermissionGroup, `docs site '${name}'`));
    return new cloudflare.AccountToken(
      `${name}-deploy-token`,
      {
        accountId: args.accountId,
        name: args.tokenName ?? pulumi.interpolate`${projectName} Pages deploy (GitHub Actions)`,
        policies: [
          {
            effect: "allow",
            permissionGroups: [{ id: pagesWrite }],
            resources: pulumi.output(args.accountId).apply((accountId) => JSON.stringify({ [`com.cloudflare.api.account.${accountId}`]: "*" })),
          },
        ],
      },
      { parent: this },
    );
  }
}
