/**
 * Fly's documented Machines API rate limits (superfly/docs machines/api/working-with-machines-api, "Rate
 * Limits"), as token buckets: per action (operationId), per Machine ID or App ID depending on the request.
 * "1 request, per second, per action ... with a short-term burst limit up to 3 req/s, per action. This
 * applies to all actions except Get Machine which is 5 req/s, with a short-term burst limit up to 10 req/s.
 * Additionally, app deletions are limited to 100 per minute."
 */
import type { MatchedOperation } from "./contract";

export interface RateRule {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once (the bucket's size). */
  burst: number;
}

export const flyRateLimits = {
  /** Every action, per machine (machine-scoped calls) or per app (app-scoped calls). */
  perAction: { perSecond: 1, burst: 3 },
  /** Get Machine (Machines_show), per machine. */
  getMachine: { perSecond: 5, burst: 10 },
  /** App deletions, across apps. */
  appDeletes: { perSecond: 100 / 60, burst: 100 },
} as const satisfies Record<string, RateRule>;

export interface RateLimitOptions {
  /**
   * Runs Fly's limits this many times faster, so tests finish sooner: rates are multiplied by it and
   * Retry-After (whole seconds on the emulator's clock) divided by it, which makes it fractional.
   * @default `1` (Fly's own numbers, Retry-After in whole seconds)
   */
  timeScale?: number;
}

/** The buckets one request draws from: its action's, scoped to the machine, the app or the org. */
export function bucketsFor(op: MatchedOperation, query: Record<string, string>, body: unknown): { key: string; rule: RateRule }[] {
  const app = op.pathParams["app_name"];
  const machine = op.pathParams["machine_id"];
  const org = typeof (body as { org_slug?: unknown } | undefined)?.org_slug === "string" ? (body as { org_slug: string }).org_slug : query["org_slug"];
  const scope = machine !== undefined ? `machine ${app}/${machine}` : app !== undefined ? `app ${app}` : `org ${org ?? "-"}`;
  const rule = op.operationId === "Machines_show" ? flyRateLimits.getMachine : flyRateLimits.perAction;
  const buckets: { key: string; rule: RateRule }[] = [{ key: `${op.operationId} ${scope}`, rule }];
  if (op.operationId === "Apps_delete") buckets.push({ key: "Apps_delete (all apps)", rule: flyRateLimits.appDeletes });
  return buckets;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by action and scope; `take` answers whether a request may go through now. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  readonly timeScale: number;

  constructor(options: RateLimitOptions = {}) {
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new Error(`fly emulator rate limits: timeScale must be positive, got ${this.timeScale}`);
  }

  private bucket(key: string, rule: RateRule, now: number): Bucket {
    const bucket = this.buckets.get(key) ?? { tokens: rule.burst, updatedAt: now };
    const refill = ((now - bucket.updatedAt) / 1000) * rule.perSecond * this.timeScale;
    bucket.tokens = Math.min(rule.burst, bucket.tokens + refill);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    return bucket;
  }

  /**
   * Takes a token from every bucket of the request, or none: then `retryAfter` is the Retry-After header,
   * the wait until each bucket has a token rounded up to whole seconds of the emulator's clock.
   */
  take(buckets: { key: string; rule: RateRule }[], now: number = Date.now()): { ok: true } | { ok: false; retryAfter: string } {
    const states = buckets.map(({ key, rule }) => ({ rule, bucket: this.bucket(key, rule, now) }));
    const short = states.filter(({ bucket }) => bucket.tokens < 1);
    if (short.length === 0) {
      for (const { bucket } of states) bucket.tokens -= 1;
      return { ok: true };
    }
    // Seconds on Fly's clock until the emptiest bucket holds a whole token.
    const waitSeconds = Math.max(...short.map(({ rule, bucket }) => (1 - bucket.tokens) / rule.perSecond));
    const wholeSeconds = Math.max(1, Math.ceil(waitSeconds - 1e-9));
    const scaled = wholeSeconds / this.timeScale;
    return { ok: false, retryAfter: Number.isInteger(scaled) ? String(scaled) : String(Math.round(scaled * 1000) / 1000) };
  }
}
