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

export interface DocsSiteArgs {
  /** Cloudflare account id; also stored as the CLOUDFLARE_ACCOUNT_ID Actions secret (seed 000 §5 step 2). */
  accountId: pulumi.Input<string>;
  /** Pages project name. @default `naluma-content-automation` (seed 000 §5 step 1) */
  projectName?: pulumi.Input<string>;
  /** Branch whose deployments are production. @default `main` */
  productionBranch?: pulumi.Input<string>;
  /**
   * GitHub repository (name only; the owner comes from the github provider) whose Actions deploy the site.
   * @example `"naluma-content-pipeline"`
   */
  repository: pulumi.Input<string>;
  /** Name of the Cloudflare API token made for the workflow. @default `<projectName> Pages deploy (GitHub Actions)` */
  tokenName?: pulumi.Input<string>;
}

/**
 * Seed 000 §5: the Cloudflare Pages project the MkDocs site deploys to, and the two GitHub Actions secrets its
 * workflow uses. The API token is made here, owned by the account and allowed to edit Pages on that account
 * only, so nobody pastes their own token into GitHub.
 */
export class DocsSite extends pulumi.ComponentResource {
  /** `https://<subdomain>`; Cloudflare gives `<projectName>.pages.dev`, or a suffixed name when that is taken. */
  public readonly url: pulumi.Output<string>;
  public readonly projectName: pulumi.Output<string>;

  constructor(name: string, args: DocsSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:DocsSite", name, {}, opts);
    const projectName = args.projectName ?? "naluma-content-automation";

    // Direct upload: the workflow builds the site and deploys it with wrangler, so no `source` (Git integration).
    const project = new cloudflare.PagesProject(
      `${name}-pages`,
      { accountId: args.accountId, name: projectName, productionBranch: args.productionBranch ?? "main" },
      { parent: this },
    );
    const token = this.createDeployToken(name, args, projectName);
    new github.ActionsSecret(
      `${name}-account-id`,
      { repository: args.repository, secretName: "CLOUDFLARE_ACCOUNT_ID", value: args.accountId },
      { parent: this },
    );
    new github.ActionsSecret(
      `${name}-api-token`,
      { repository: args.repository, secretName: "CLOUDFLARE_API_TOKEN", value: pulumi.secret(token.value) },
      { parent: this },
    );

    this.projectName = project.name;
    this.url = pulumi.interpolate`https://${project.subdomain}`;
    this.registerOutputs({ url: this.url, projectName: this.projectName });
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
