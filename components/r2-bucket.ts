import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { permissionGroupId } from "./docs-site";

/** R2 location hints (`wrangler r2 bucket create --location`). */
export const r2Locations = ["apac", "eeur", "enam", "weur", "wnam", "oc"] as const;
export type R2Location = (typeof r2Locations)[number];
/** Jurisdictions R2 documents; `default` is none. */
export const r2Jurisdictions = ["default", "eu", "fedramp"] as const;
export type R2Jurisdiction = (typeof r2Jurisdictions)[number];
export const r2StorageClasses = ["Standard", "InfrequentAccess"] as const;
export type R2StorageClass = (typeof r2StorageClasses)[number];
/** What an access token may do with the bucket's objects (R2's "Object Read & Write" / "Object Read only"). */
export const r2TokenAccesses = ["read-write", "read"] as const;
export type R2TokenAccess = (typeof r2TokenAccesses)[number];

/** The bucket-scoped API token permission groups, by access. */
export const r2PermissionGroups: Record<R2TokenAccess, string> = {
  "read-write": "Workers R2 Storage Bucket Item Write",
  read: "Workers R2 Storage Bucket Item Read",
};

/** R2 bucket names (as wrangler checks them): 3-63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit. */
export const r2BucketNamePattern = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** Cloudflare's `jurisdiction` when none is asked for. */
const defaultJurisdiction: R2Jurisdiction = "default";
/** Object read and write: what an app storing files needs. */
const defaultTokenAccess: R2TokenAccess = "read-write";

/** An account API token scoped to this one bucket, handed to apps as S3 credentials. */
export interface R2BucketAccessTokenArgs {
  /** The token's name in the Cloudflare dashboard. @default `<bucket name> R2 object <access>` */
  name?: pulumi.Input<string>;
  /** `"read-write"` (list, read, write objects) or `"read"` (list and read). @default `"read-write"` */
  access?: R2TokenAccess;
}

export interface R2BucketArgs {
  /** Cloudflare account id that owns the bucket. @example `"023e105f4ecef8ad9ca31a8372d0c353"` */
  accountId: pulumi.Input<string>;
  /** Bucket name: 3-63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit. @example `"app-backups"` */
  name: string;
  /**
   * Location hint: `apac`, `eeur`, `enam`, `weur`, `wnam` or `oc`. Honoured only when the bucket is first created,
   * and best effort.
   * @default Cloudflare's (automatic, near the first request)
   */
  location?: R2Location;
  /** `default`, `eu` or `fedramp`: where objects are guaranteed to be stored. A jurisdiction has its own S3 endpoint. @default `"default"` */
  jurisdiction?: R2Jurisdiction;
  /** Storage class of new objects: `Standard` or `InfrequentAccess`. @default Cloudflare's (`Standard`) */
  storageClass?: R2StorageClass;
  /**
   * Make an account API token for this bucket only and output it as S3 credentials (`accessKeyId`,
   * `secretAccessKey`), e.g. for an app's R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY.
   * @default none
   * @example `{ access: "read-write" }`
   */
  accessToken?: R2BucketAccessTokenArgs;
}

/** R2's S3 secret access key for an API token: the SHA-256 of the token value, in hex (Cloudflare R2 docs, "Get S3 API credentials from an API token"). */
export function r2SecretAccessKey(tokenValue: string): string {
  return createHash("sha256").update(tokenValue).digest("hex");
}

/** The API token policy resource for one bucket: `com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>`. */
export function r2BucketResource(accountId: string, jurisdiction: R2Jurisdiction, bucketName: string): string {
  return `com.cloudflare.edge.r2.bucket.${accountId}_${jurisdiction}_${bucketName}`;
}

/** The S3 endpoint; jurisdictional buckets are reachable only through their jurisdiction's endpoint. */
export function r2Endpoint(accountId: string, jurisdiction: R2Jurisdiction): string {
  return jurisdiction === "default" ? `https://${accountId}.r2.cloudflarestorage.com` : `https://${accountId}.${jurisdiction}.r2.cloudflarestorage.com`;
}

function checkArgs(name: string, args: R2BucketArgs): void {
  const fail = (message: string): never => {
    throw new Error(`R2Bucket '${name}': ${message}`);
  };
  const oneOf = (field: string, value: string | undefined, allowed: readonly string[]): void => {
    if (value !== undefined && !allowed.includes(value)) fail(`${field} must be one of ${allowed.join(", ")}, got '${value}'`);
  };
  if (!r2BucketNamePattern.test(args.name)) {
    fail(`name must be 3-63 lowercase letters, digits or hyphens, beginning and ending with a letter or digit, got '${args.name}'`);
  }
  oneOf("location", args.location, r2Locations);
  oneOf("jurisdiction", args.jurisdiction, r2Jurisdictions);
  oneOf("storageClass", args.storageClass, r2StorageClasses);
  oneOf("accessToken.access", args.accessToken?.access, r2TokenAccesses);
}

/**
 * An R2 bucket (`wrangler r2 bucket create`), optionally with an account API token allowed to read and write this
 * bucket's objects and nothing else, turned into the S3 credentials apps use (`aws s3 cp ... --endpoint-url`).
 *
 * @example
 * const backups = new R2Bucket("backups", { accountId, name: "app-backups", accessToken: {} });
 * // backups.endpoint, backups.accessKeyId, backups.secretAccessKey → the app's S3 settings
 */
export class R2Bucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** `https://<accountId>.r2.cloudflarestorage.com`, or `https://<accountId>.<jurisdiction>.r2.cloudflarestorage.com`. */
  public readonly endpoint: pulumi.Output<string>;
  /** S3 access key id: the token's id. Secret. Only with `accessToken`. */
  public readonly accessKeyId?: pulumi.Output<string>;
  /** S3 secret access key: SHA-256 (hex) of the token value. Secret. Only with `accessToken`. */
  public readonly secretAccessKey?: pulumi.Output<string>;

  constructor(name: string, args: R2BucketArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("platform:index:R2Bucket", name, {}, opts);
    const jurisdiction = args.jurisdiction ?? defaultJurisdiction;

    const bucket = new cloudflare.R2Bucket(
      `${name}-bucket`,
      { accountId: args.accountId, name: args.name, location: args.location, jurisdiction, storageClass: args.storageClass },
      { parent: this },
    );
    this.bucketName = bucket.name;
    this.endpoint = pulumi.output(args.accountId).apply((accountId) => r2Endpoint(accountId, jurisdiction));

    if (args.accessToken !== undefined) {
      const token = this.createAccessToken(name, args, args.accessToken, jurisdiction, bucket);
      this.accessKeyId = pulumi.secret(token.id);
      this.secretAccessKey = pulumi.secret(token.value.apply(r2SecretAccessKey));
    }
    this.registerOutputs({
      bucketName: this.bucketName,
      endpoint: this.endpoint,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
    });
  }

  /** An account-owned token (it outlives whoever ran `pulumi up`) with object access to this bucket only. */
  private createAccessToken(
    name: string,
    args: R2BucketArgs,
    tokenArgs: R2BucketAccessTokenArgs,
    jurisdiction: R2Jurisdiction,
    bucket: cloudflare.R2Bucket,
  ): cloudflare.AccountToken {
    const access = tokenArgs.access ?? defaultTokenAccess;
    const groupName = r2PermissionGroups[access];
    const groups = cloudflare.getAccountApiTokenPermissionGroupsListOutput(
      // The plain name: the provider's SDK URL-encodes query values itself.
      { accountId: args.accountId, name: groupName },
      { parent: this },
    );
    const groupId = groups.results.apply((results) => permissionGroupId(results, groupName, `R2 bucket '${name}'`));
    // From the bucket's output, so the token is made once the bucket exists.
    const resources = pulumi
      .all([args.accountId, bucket.name])
      .apply(([accountId, bucketName]) => JSON.stringify({ [r2BucketResource(accountId, jurisdiction, bucketName)]: "*" }));
    return new cloudflare.AccountToken(
      `${name}-token`,
      {
        accountId: args.accountId,
        name: tokenArgs.name ?? `${args.name} R2 object ${access}`,
        policies: [{ effect: "allow", permissionGroups: [{ id: groupId }], resources }],
      },
      { parent: this },
    );
  }
}
