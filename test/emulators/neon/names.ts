import { randomBytes, randomInt } from "node:crypto";

const ADJECTIVES = ["cool", "hidden", "long", "little", "quiet", "bold", "young", "wild", "silent", "misty", "rapid", "plain", "broad", "calm", "dry"];
const NOUNS = ["darkness", "river", "feather", "smoke", "forest", "meadow", "sun", "frost", "cloud", "lake", "thunder", "field", "wave", "leaf", "snow"];
const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

function pick<T>(list: readonly T[]): T {
  return list[randomInt(list.length)];
}

function alnum(length: number, alphabet = ALNUM): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** `hidden-river-50598307` [BEHAVIOUR-NOTES: IDs] */
export function projectId(): string {
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${alnum(8, "0123456789")}`;
}

/** `br-long-feather-adpbgzlx` [BEHAVIOUR-NOTES: IDs] */
export function branchId(): string {
  return `br-${pick(ADJECTIVES)}-${pick(NOUNS)}-${alnum(8)}`;
}

/** `ep-cool-darkness-a1b2c3d4` [BEHAVIOUR-NOTES: IDs] */
export function endpointId(): string {
  return `ep-${pick(ADJECTIVES)}-${pick(NOUNS)}-${alnum(8)}`;
}

/** Neon's own generated passwords are opaque; any URL-safe secret serves. */
export function rolePassword(): string {
  return `npg_${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;
}

/** `aws-us-east-2` → `us-east-2.aws.neon.tech` [BEHAVIOUR-NOTES: Hosts] */
export function proxyHost(regionId: string): string {
  const m = /^(aws|azure)-(.+)$/.exec(regionId);
  return m ? `${m[2]}.${m[1]}.neon.tech` : `${regionId}.aws.neon.tech`;
}

export function endpointHost(endpoint: string, regionId: string, pooled = false): string {
  return `${endpoint}${pooled ? "-pooler" : ""}.${proxyHost(regionId)}`;
}
