/**
 * fly.toml `[deploy]` for one process group: how FlyApp rolls a new image or config over the group's
 * machines, as `fly deploy` does (flyctl internal/command/deploy). Pulumi does the rolling: the strategy
 * becomes the `dependsOn` between the group's Machine resources and the options each Machine waits with.
 */
import { createHash } from "node:crypto";
import { canonical, parseDuration } from "../dynamic-providers/core/check";

/** fly.toml `[deploy] strategy`. */
export const deployStrategies = ["rolling", "immediate", "canary", "bluegreen"] as const;
export type FlyDeployStrategy = (typeof deployStrategies)[number];

/** fly.toml `[deploy]` per process group. */
export interface FlyDeployArgs {
  /**
   * - `rolling`: at most `maxUnavailable` machines are updated at once, each waits for started, the smoke
   *   check and passing health checks before the next takes its place;
   * - `immediate`: every machine at once, without waiting for health checks or the smoke check;
   * - `canary`: the first machine alone, then the others as `rolling`;
   * - `bluegreen`: a new machine per machine (a new name), all started and healthy before the old ones are
   *   destroyed. Needs a health check, and no volumes.
   * @default `"rolling"` (flyctl's)
   */
  strategy?: FlyDeployStrategy;
  /**
   * `max_unavailable` for `rolling` and `canary`: a count (a whole number >= 1) or a fraction of the
   * group's machines in (0, 1), rounded up, e.g. 0.33 of 6 machines is 2.
   * @default `0.33` (flyctl's)
   * @example `1`
   */
  maxUnavailable?: number;
  /**
   * `wait_timeout`: how long each machine may take to start, and again to pass its health checks, a Go
   * duration. @default `"5m"` (flyctl's)
   * @example `"10m"`
   */
  waitTimeout?: string;
  /**
   * flyctl's smoke checks: after a machine starts, it is watched for 10 s and the deploy fails if it exits
   * non-zero or stops. Off with `immediate`. @default `true`
   */
  smokeChecks?: boolean;
}

export const defaultStrategy: FlyDeployStrategy = "rolling";
/** flyctl DefaultMaxUnavailable. */
export const defaultMaxUnavailable = 0.33;
/** flyctl DefaultWaitTimeout, 5 minutes. */
export const defaultWaitTimeout = "5m";
/** flyctl's WaitForSmokeChecksToPass window. */
export const smokeCheckSeconds = 10;

/** What a group's Machines are given: everything the strategy decides per machine. */
export interface RolloutPlan {
  strategy: FlyDeployStrategy;
  /** Machines updated at once (rolling, canary); the group size for immediate and bluegreen. */
  batch: number;
  /** Per machine index, the indices of the group's machines it waits for (its `dependsOn`). */
  dependsOn: number[][];
  /** The Machine's `waitForChecks`. */
  waitForChecks: boolean;
  /** The Machine's `timeouts`. */
  timeouts: { startSeconds: number; checksSeconds: number; smokeSeconds: number };
  /** bluegreen: every new config is a new machine (a new name), made before the old one is destroyed. */
  replaceOnChange: boolean;
}

/** flyctl getPoolSize: a count as is, a fraction of the machines rounded up. */
export function poolSize(maxUnavailable: number, machines: number): number {
  return maxUnavailable >= 1 ? Math.floor(maxUnavailable) : Math.max(1, Math.ceil(machines * maxUnavailable));
}

/**
 * Rolling with pool k is k chains (machines i, i+k, i+2k…): at most k are being updated at once, and a
 * failure stops its chain's later machines while Pulumi starts no new step (the rest keep the old image).
 * Canary puts machine 0 alone first and chains the others after it. Immediate and bluegreen have no chains.
 */
export function rolloutPlan(deploy: FlyDeployArgs | undefined, machines: number): RolloutPlan {
  const strategy = deploy?.strategy ?? defaultStrategy;
  const waitSeconds = Math.round((parseDuration(deploy?.waitTimeout ?? defaultWaitTimeout) ?? 300_000) / 1000);
  const smoke = strategy !== "immediate" && deploy?.smokeChecks !== false;
  const timeouts = { startSeconds: waitSeconds, checksSeconds: waitSeconds, smokeSeconds: smoke ? smokeCheckSeconds : 0 };
  const indices = Array.from({ length: machines }, (_, index) => index);
  const common = { strategy, timeouts, waitForChecks: strategy !== "immediate", replaceOnChange: strategy === "bluegreen" };
  if (strategy === "immediate" || strategy === "bluegreen") {
    return { ...common, batch: machines, dependsOn: indices.map(() => []) };
  }
  if (strategy === "canary") {
    const rest = machines - 1;
    const batch = rest > 0 ? poolSize(deploy?.maxUnavailable ?? defaultMaxUnavailable, rest) : 1;
    return { ...common, batch, dependsOn: indices.map((index) => (index === 0 ? [] : [index - batch >= 1 ? index - batch : 0])) };
  }
  const batch = poolSize(deploy?.maxUnavailable ?? defaultMaxUnavailable, machines);
  return { ...common, batch, dependsOn: indices.map((index) => (index >= batch ? [index - batch] : [])) };
}

/** A short, stable digest of a machine's config: bluegreen's generation suffix in the machine name. */
export function generationOf(config: unknown): string {
  return createHash("sha256").update(String(canonical(config))).digest("hex").slice(0, 8);
}

/** What the group offers bluegreen to decide on: known-empty checks refuse it, checks still unknown do not. */
export interface GroupShape {
  mounts: number;
  /** true: at least one check, or one given as a value not known yet. */
  hasChecks: boolean;
}

/** Errors for a group's `deploy`, each naming the field and the allowed values. */
export function deployProblems(path: string, deploy: FlyDeployArgs | undefined, group: GroupShape): string[] {
  if (deploy === undefined) return [];
  const problems: string[] = [];
  const strategy = deploy.strategy ?? defaultStrategy;
  if (!(deployStrategies as readonly string[]).includes(strategy)) {
    problems.push(`${path}.strategy must be one of ${deployStrategies.join(", ")}, got ${JSON.stringify(deploy.strategy)}`);
  }
  const max = deploy.maxUnavailable;
  if (max !== undefined) {
    const valid = typeof max === "number" && Number.isFinite(max) && ((max > 0 && max < 1) || (max >= 1 && Number.isInteger(max)));
    if (!valid) problems.push(`${path}.maxUnavailable must be a fraction in (0, 1) or a whole number >= 1, got ${String(max)}`);
    if (valid && strategy !== "rolling" && strategy !== "canary") {
      problems.push(`${path}.maxUnavailable applies to the rolling and canary strategies only, not ${strategy}; remove it`);
    }
  }
  if (deploy.waitTimeout !== undefined) {
    const ms = typeof deploy.waitTimeout === "string" ? parseDuration(deploy.waitTimeout) : undefined;
    if (ms === undefined || ms < 1000) {
      problems.push(`${path}.waitTimeout must be a duration of at least 1s such as "5m" or "90s", got ${JSON.stringify(deploy.waitTimeout)}`);
    }
  }
  if (deploy.smokeChecks !== undefined && typeof deploy.smokeChecks !== "boolean") {
    problems.push(`${path}.smokeChecks must be true or false, got ${JSON.stringify(deploy.smokeChecks)}`);
  }
  if (strategy === "bluegreen") {
    if (group.mounts > 0) {
      problems.push(`${path}.strategy bluegreen cannot be used with mounts (a volume is attached to one machine at a time); use rolling or immediate`);
    }
    if (!group.hasChecks) {
      problems.push(
        `${path}.strategy bluegreen needs at least one health check (httpService.checks, services[].checks or checks), as flyctl does; add one or use rolling`,
      );
    }
  }
  return problems;
}
