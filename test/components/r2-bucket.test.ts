import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { R2Bucket as R2BucketClass, R2BucketArgs } from "../../components/r2-bucket";
import { r2BucketResource, r2Endpoint, r2SecretAccessKey } from "../../components/r2-bucket";
import { valueOf } from "./fly-mocks";
import { constructRecording, recordingMocks, type Child } from "./recording-mocks";

const bucketType = "cloudflare:index/r2Bucket:R2Bucket";
const tokenType = "cloudflare:index/accountToken:AccountToken";
const permissionGroupsToken = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";

/** Cloudflare's name filter is a substring match, so an account-wide neighbour comes back too. */
const permissionGroups = [
  { id: "pg-r2-write", name: "Workers R2 Storage Write", category: "r2", isSelectable: true, scopes: ["com.cloudflare.api.account"] },
  { id: "pg-r2-item-write", name: "Workers R2 Storage Bucket Item Write", category: "r2", isSelectable: true, scopes: ["com.cloudflare.edge.r2.bucket"] },
  { id: "pg-r2-item-read", name: "Workers R2 Storage Bucket Item Read", category: "r2", isSelectable: true, scopes: ["com.cloudflare.edge.r2.bucket"] },
];
const tokenValue = "cf-token-value";
/** `printf cf-token-value | sha256sum` */
const tokenValueSha256 = "ea18fb75a99ff16fb3fd54b6bf9983daa6fa7b53e13720f2248b5b71c5bbcd55";

const { registered, calls, install } = recordingMocks({
  outputsFor: (type) => (type === tokenType ? { value: tokenValue } : {}),
  call: (args) => (args.token === permissionGroupsToken ? { results: permissionGroups } : undefined),
});

let R2Bucket: typeof R2BucketClass;

beforeAll(async () => {
  await install();
  ({ R2Bucket } = await import("../../components/r2-bucket"));
});

interface Built {
  component: R2BucketClass;
  children: Child[];
}

function build(name: string, args: R2BucketArgs): Promise<Built> {
  return constructRecording((opts) => new R2Bucket(name, args, opts));
}

function inputsOf(type: string, name: string): Record<string, unknown> {
  const found = registered.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' was registered (have: ${[...registered.keys()].join(", ")})`);
  return found.inputs;
}

/** A secret output's value, failing when it is not secret. */
async function secretValueOf(output: pulumi.Output<string> | undefined): Promise<string> {
  if (output === undefined) throw new Error("no output");
  expect(await pulumi.isSecret(output)).toBe(true);
  return valueOf(output);
}

const accountId = "023e105f4ecef8ad9ca31a8372d0c353";

describe("R2Bucket with an access token (seed 002's backup bucket)", () => {
  let built: Built;
  beforeAll(async () => {
    built = await build("backups", { accountId, name: "nuzantara-backups", location: "apac", accessToken: {} });
  });

  it("creates the bucket and one account token, both children of the component", async () => {
    expect(built.children.map((child) => child.type).sort()).toEqual([bucketType, tokenType].sort());
    for (const child of built.children) expect(await valueOf(child.resource.urn)).toContain(`platform:index:R2Bucket$${child.type}::`);
  });

  it("creates the bucket with its location hint and no jurisdiction", () => {
    const bucket = inputsOf(bucketType, "backups-bucket");
    expect(bucket).toMatchObject({ accountId, name: "nuzantara-backups", location: "apac", jurisdiction: "default" });
    expect(bucket).not.toHaveProperty("storageClass");
  });

  it("looks the bucket-item write permission group up by its plain name on the account", () => {
    const lookup = calls.find((call) => call.token === permissionGroupsToken && call.inputs.name === "Workers R2 Storage Bucket Item Write");
    expect(lookup?.inputs).toMatchObject({ accountId });
  });

  it("scopes the token to object read/write on this bucket only", () => {
    const token = inputsOf(tokenType, "backups-token");
    expect(token).toMatchObject({ accountId, name: "nuzantara-backups R2 object read-write" });
    const policies = token.policies as { effect: string; permissionGroups: { id: string }[]; resources: string }[];
    expect(policies).toHaveLength(1);
    expect(policies[0].effect).toBe("allow");
    expect(policies[0].permissionGroups).toEqual([{ id: "pg-r2-item-write" }]);
    expect(JSON.parse(policies[0].resources)).toEqual({ [`com.cloudflare.edge.r2.bucket.${accountId}_default_nuzantara-backups`]: "*" });
  });

  it("outputs S3 credentials as secrets: the token id and the SHA-256 (hex) of the token value", async () => {
    expect(await secretValueOf(built.component.accessKeyId)).toBe("backups-token-id");
    expect(await secretValueOf(built.component.secretAccessKey)).toBe(tokenValueSha256);
  });

  it("outputs the account's S3 endpoint and the bucket name in plain", async () => {
    expect(await valueOf(built.component.endpoint)).toBe(`https://${accountId}.r2.cloudflarestorage.com`);
    expect(await valueOf(built.component.bucketName)).toBe("nuzantara-backups");
    expect(await pulumi.isSecret(built.component.endpoint)).toBe(false);
  });
});

describe("R2Bucket: other shapes", () => {
  it("without accessToken makes only the bucket, looks nothing up and has no credentials", async () => {
    const before = calls.length;
    const { component, children } = await build("plain", { accountId, name: "plain-bucket", storageClass: "InfrequentAccess" });
    expect(children.map((child) => child.type)).toEqual([bucketType]);
    expect(inputsOf(bucketType, "plain-bucket")).toMatchObject({ name: "plain-bucket", storageClass: "InfrequentAccess" });
    expect(calls.length).toBe(before);
    expect(component.accessKeyId).toBeUndefined();
    expect(component.secretAccessKey).toBeUndefined();
  });

  it("in the EU jurisdiction, with a read-only token of a given name: the jurisdiction's endpoint, resource and the read group", async () => {
    const { component } = await build("eu", {
      accountId,
      name: "eu-archive",
      jurisdiction: "eu",
      accessToken: { name: "archive reader", access: "read" },
    });
    expect(inputsOf(bucketType, "eu-bucket")).toMatchObject({ jurisdiction: "eu" });
    const token = inputsOf(tokenType, "eu-token");
    expect(token.name).toBe("archive reader");
    const [policy] = token.policies as { permissionGroups: { id: string }[]; resources: string }[];
    expect(policy.permissionGroups).toEqual([{ id: "pg-r2-item-read" }]);
    expect(JSON.parse(policy.resources)).toEqual({ [`com.cloudflare.edge.r2.bucket.${accountId}_eu_eu-archive`]: "*" });
    expect(await valueOf(component.endpoint)).toBe(`https://${accountId}.eu.r2.cloudflarestorage.com`);
  });

  it("never hands the token value or the key derived from it to any resource, not even as a secret", () => {
    const inputs = JSON.stringify([...registered.values()].map((resource) => resource.inputs));
    expect(inputs).not.toContain(tokenValue);
    expect(inputs).not.toContain(tokenValueSha256);
  });
});

describe("R2Bucket: bad arguments are refused before anything is created", () => {
  const cases: [string, Partial<R2BucketArgs>, RegExp][] = [
    ["a two-letter name", { name: "ab" }, /name must be 3-63 lowercase letters, digits or hyphens.*got 'ab'/],
    ["an uppercase name", { name: "Backups" }, /name must be 3-63 .*got 'Backups'/],
    ["a name ending in a hyphen", { name: "backups-" }, /name must be 3-63 .*got 'backups-'/],
    ["a name with an underscore", { name: "app_backups" }, /name must be 3-63 .*got 'app_backups'/],
    ["a 64-character name", { name: "a".repeat(64) }, /name must be 3-63 /],
    ["an unknown location", { location: "eu" as R2BucketArgs["location"] }, /location must be one of apac, eeur, enam, weur, wnam, oc, got 'eu'/],
    ["an unknown jurisdiction", { jurisdiction: "us-east" as R2BucketArgs["jurisdiction"] }, /jurisdiction must be one of default, eu, fedramp, got 'us-east'/],
    ["a storage class in the wrong case", { storageClass: "standard" as R2BucketArgs["storageClass"] }, /storageClass must be one of Standard, InfrequentAccess, got 'standard'/],
    ["an unknown token access", { accessToken: { access: "admin" as "read" } }, /accessToken\.access must be one of read-write, read, got 'admin'/],
  ];

  it.each(cases)("refuses %s", (label, override, message) => {
    const name = `bad-${label.replace(/\W+/g, "-")}`;
    const args = { accountId, name: "app-backups", ...override } as R2BucketArgs;
    expect(() => new R2Bucket(name, args)).toThrow(new RegExp(`^R2Bucket '${name}': ${message.source}`));
    expect([...registered.keys()].some((key) => key.includes(name))).toBe(false);
  });
});

describe("R2 credential and scope rules", () => {
  it("derives the secret access key as the SHA-256 hex of the token value (FIPS 180-2 test vector for `abc`)", () => {
    expect(r2SecretAccessKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("names a bucket in a token policy as com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>", () => {
    expect(r2BucketResource("4793d734c0b8e484dfc37ec392b5fa8a", "default", "my-bucket")).toBe(
      "com.cloudflare.edge.r2.bucket.4793d734c0b8e484dfc37ec392b5fa8a_default_my-bucket",
    );
  });

  it.each([
    ["default", `https://${accountId}.r2.cloudflarestorage.com`],
    ["eu", `https://${accountId}.eu.r2.cloudflarestorage.com`],
    ["fedramp", `https://${accountId}.fedramp.r2.cloudflarestorage.com`],
  ] as const)("serves the %s jurisdiction at %s", (jurisdiction, endpoint) => {
    expect(r2Endpoint(accountId, jurisdiction)).toBe(endpoint);
  });
});
