import { randomBytes, randomInt } from "node:crypto";
import type { components } from "../../../dynamic-providers/fly/schema.gen";

type Schemas = components["schemas"];
export type MachineConfig = Schemas["fly.MachineConfig"];
export type MachineEvent = Schemas["MachineEvent"];

export type MachineState =
  | "created"
  | "starting"
  | "started"
  | "stopping"
  | "stopped"
  | "suspended"
  | "restarting"
  | "replacing"
  | "updating"
  | "destroying"
  | "destroyed"
  | "failed";

export interface LeaseRecord {
  nonce: string;
  owner: string;
  description: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  version: string;
}

export interface MachineRecord {
  id: string;
  name: string;
  appName: string;
  region: string;
  state: MachineState;
  config: MachineConfig;
  /** Current version id; every update makes a new one. */
  version: string;
  versions: string[];
  createdAt: string;
  updatedAt: string;
  privateIp: string;
  lease?: LeaseRecord;
  events: MachineEvent[];
  minSecretsVersion?: number;
  /** Volume ids this machine's config.mounts attach. */
  volumeIds: string[];
}

export interface VolumeRecord {
  id: string;
  name: string;
  region: string;
  zone: string;
  sizeGb: number;
  encrypted: boolean;
  snapshotRetention: number;
  autoBackupEnabled: boolean;
  requireUniqueZone: boolean;
  fstype: string;
  createdAt: string;
  state: "created" | "destroyed";
  attachedMachineId: string | null;
}

export interface SecretRecord {
  name: string;
  /** Kept so tests can assert; Secrets_list never returns it. */
  value: string;
  digest: string;
  createdAt: string;
  updatedAt: string;
}

export type IpType = "v4" | "v6" | "shared_v4" | "private_v6" | "egress_v4" | "egress_v6" | "egress_pair";

export interface IpRecord {
  ip: string;
  type: IpType;
  region: string;
  network: { name: string; org_slug: string } | null;
  serviceName: string;
  createdAt: string;
}

export interface CertificateRecord {
  hostname: string;
  status: "pending_validation" | "pending_ownership" | "active";
  createdAt: string;
  updatedAt: string;
}

/**
 * A deploy token of the app. GraphQL (`createLimitedAccessToken`) gives it a name; the Machines API
 * (`POST /v1/apps/{app}/deploy_token`) gives it none (name ""). Revoked tokens stay listed, as `fly tokens list`
 * shows them, and no longer authenticate.
 */
export interface DeployTokenRecord {
  /** GraphQL id (`fly tokens revoke <id>`). */
  id: string;
  name: string;
  /** `FlyV1 fm2_...`: the credential. */
  token: string;
  createdAt: string;
  expiresAt: string;
  /** Set once revoked. */
  revokedAt: string | null;
  /** How it was made. */
  via: "graphql" | "machines";
}

export interface AppRecord {
  id: string;
  /** The app's GraphQL node id (`app(name:) { id }`), what `profileParams.app_id` takes. */
  graphqlId: string;
  name: string;
  orgSlug: string;
  network: string;
  createdAt: string;
  /** Epoch ms before which app-scoped calls answer as if the app did not exist yet. */
  readyAt: number;
  notReadyStatus: 401 | 404;
  /** The per-app label in ACME challenge targets: <host>.<dnsId>.flydns.net */
  dnsId: string;
  machines: Map<string, MachineRecord>;
  volumes: Map<string, VolumeRecord>;
  secrets: Map<string, SecretRecord>;
  secretsVersion: number;
  ips: IpRecord[];
  certificates: Map<string, CertificateRecord>;
  deployTokens: DeployTokenRecord[];
}

/** One machine state change, as the emulator made it: the timeline tests count serving machines over. */
export interface StateTransition {
  /** Epoch milliseconds. */
  at: number;
  appName: string;
  machineId: string;
  name: string;
  /** The machine's `fly_process_group` metadata at that moment. */
  processGroup: string | undefined;
  /** The image it runs at that moment. */
  image: string | undefined;
  state: MachineState;
}

/** Read access to the emulator's model, for tests asserting the state reached. */
export interface FlyState {
  /** Every machine state change since the emulator started, oldest first. */
  readonly transitions: readonly StateTransition[];
  readonly apps: ReadonlyMap<string, AppRecord>;
  /** Certificate hostname → owning app name; hostnames are global. */
  readonly hostnames: ReadonlyMap<string, string>;
  readonly orgs: readonly string[];
  /** Org slug → the org's GraphQL node id (`organization { id }`). */
  readonly orgIds: ReadonlyMap<string, string>;
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const adjectives = ["young", "misty", "bold", "quiet", "lively", "silent", "proud", "gentle"];
const nouns = ["frost", "river", "meadow", "sun", "thunder", "forest", "cloud", "stone"];

export const ids = {
  /** 14 hex characters, like e784079b449483. */
  machine: (): string => randomBytes(7).toString("hex"),
  /** 26-character ULID-like version id. */
  version: (): string => Array.from({ length: 26 }, (_, i) => crockford[i === 0 ? 0 : randomInt(32)]).join(""),
  /** vol_ + 16 lowercase alphanumerics. */
  volume: (): string => `vol_${Array.from({ length: 16 }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[randomInt(36)]).join("")}`,
  nonce: (): string => randomBytes(16).toString("hex"),
  app: (): string => randomBytes(8).toString("hex"),
  /** A GraphQL node id, like the ones Fly's GraphQL API gives apps, orgs and tokens. */
  graphql: (): string => randomBytes(9).toString("base64url"),
  dns: (): string => Array.from({ length: 6 }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[randomInt(36)]).join(""),
  zone: (): string => randomBytes(2).toString("hex"),
  machineName: (): string =>
    `${adjectives[randomInt(adjectives.length)]}-${nouns[randomInt(nouns.length)]}-${randomInt(1000, 10000)}`,
  privateIp: (): string => `fdaa:0:${randomBytes(2).toString("hex")}:a7b:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}:2`,
};

export const now = (): string => new Date().toISOString();

/**
 * One step of a scheduled transition: a state, or a state with an event computed when the step runs (an
 * exit event reads the exit code a test set through a fault by then).
 */
export type TransitionStep = MachineState | { state: MachineState; event: () => Partial<MachineEvent> };

interface Waiter {
  machine: MachineRecord;
  predicate: (machine: MachineRecord) => boolean;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/** The mutable model plus the timers that move machines through their states. */
export class Store implements FlyState {
  readonly apps = new Map<string, AppRecord>();
  readonly hostnames = new Map<string, string>();
  /** Apps_create idempotency_key → the app that create made (a repeat with the key answers with it). */
  readonly idempotencyKeys = new Map<string, AppRecord>();
  readonly orgs: string[];
  readonly orgIds: Map<string, string>;
  readonly transitions: StateTransition[] = [];
  transitionMs: number;
  private readonly scheduled = new Map<MachineRecord, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<Waiter>();

  constructor(orgs: string[], transitionMs: number) {
    this.orgs = orgs;
    this.orgIds = new Map(orgs.map((slug) => [slug, ids.graphql()]));
    this.transitionMs = transitionMs;
  }

  /** `event` overrides the recorded event's fields, e.g. an exit event `{ type: "exit", request: { exit_event } }`. */
  setState(machine: MachineRecord, state: MachineState, event: Partial<MachineEvent> = {}): void {
    machine.state = state;
    machine.updatedAt = now();
    this.transitions.push({
      at: Date.now(),
      appName: machine.appName,
      machineId: machine.id,
      name: machine.name,
      processGroup: machine.config.metadata?.["fly_process_group"],
      image: machine.config.image,
      state,
    });
    machine.events.unshift({
      id: ids.version(),
      type: state,
      status: state,
      source: "flyd",
      timestamp: Date.now(),
      ...event,
    });
    if (state === "destroyed") this.onDestroyed?.(machine);
    for (const waiter of [...this.waiters]) {
      if (waiter.machine === machine && waiter.predicate(machine)) this.finishWait(waiter, true);
    }
  }

  /** Called when a machine reaches "destroyed" (detaches its volumes). */
  onDestroyed?: (machine: MachineRecord) => void;

  /**
   * Moves the machine through `steps`, one every transitionMs. With transitionMs 0 the steps run
   * synchronously, so callers snapshot their response first. A new schedule cancels the old one.
   */
  schedule(machine: MachineRecord, steps: TransitionStep[]): void {
    const pending = this.scheduled.get(machine);
    if (pending) clearTimeout(pending);
    this.scheduled.delete(machine);
    if (this.transitionMs <= 0) {
      for (const step of steps) this.step(machine, step);
      return;
    }
    const [next, ...rest] = steps;
    if (next === undefined) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(machine);
      this.step(machine, next);
      this.schedule(machine, rest);
    }, this.transitionMs);
    this.scheduled.set(machine, timer);
  }

  private step(machine: MachineRecord, step: TransitionStep): void {
    if (typeof step === "string") this.setState(machine, step);
    else this.setState(machine, step.state, step.event());
  }

  /** Runs fn after ms (tracked so close() can cancel it). */
  later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  waitFor(machine: MachineRecord, predicate: (machine: MachineRecord) => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate(machine)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        machine,
        predicate,
        resolve,
        timer: setTimeout(() => this.finishWait(waiter, false), timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private finishWait(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }

  close(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of [...this.waiters]) this.finishWait(waiter, false);
  }
}
