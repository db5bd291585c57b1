import { isUnknown, type Failures } from "../core/check";

/**
 * Fly regions, from https://fly.io/docs/reference/regions/ (the same 35 codes as `fly platform regions` listed before
 * Fly's 2025 consolidation, so stacks on a retired region still parse). The one list: the fly providers' check() and
 * the stack config (config-kit) both read it.
 */
export const flyRegions: readonly string[] = [
  "ams", "arn", "atl", "bog", "bom", "bos", "cdg", "den", "dfw", "ewr", "eze", "fra", "gdl", "gig", "gru", "hkg", "iad",
  "jnb", "lax", "lhr", "mad", "mia", "nrt", "ord", "otp", "phx", "qro", "scl", "sea", "sin", "sjc", "syd", "waw", "yul", "yyz",
];

/** `field` must be a Fly region code; values unknown during preview are checked on the real run. */
export function checkRegion(problems: Failures, field: string, value: unknown, options: { required?: boolean } = {}): void {
  if (isUnknown(value)) return;
  if (value === undefined || value === null || value === "") {
    if (options.required ?? true) problems.add(field, "is required (a Fly region code such as `ams` or `ord`)");
    return;
  }
  if (typeof value !== "string" || !flyRegions.includes(value)) {
    problems.add(field, `must be a Fly region (one of ${flyRegions.join(", ")})`, value);
  }
}
