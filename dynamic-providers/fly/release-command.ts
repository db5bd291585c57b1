import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { runOnceLifecycle } from "../core/run-once";
import { appNamePattern } from "./app";
import { body, flyApi, type FlyApi, ignoreNotFound, isStatus, isUnanswered, type Machine as FlyMachine, type Schemas, waitForMachineState } from "./client";
import { checkEnv, checkGuest } from "./machine-check";
import { checkRegion } from "./regions";
import { toConfig } from "./machine-config";
import type { MachineGuest } from "./machine-types";
import { findMachineByName, type DeepInput } from "./machine";

/** flyctl's process group for the release command machine; `fly deploy` and our machines ignore it. */
export const releaseCommandProcessGroup = "fly_app_release_command";
/** flyctl's default `release_command_timeout` (5m). */
const defaultTimeoutSeconds = 300;

export interface ReleaseCommandInputs {
  appName: string;
  /** The image the command runs in: the app's new image, before its machines roll. */
  image: string;
  /** The machine's `init.cmd`, e.g. `["alembic", "upgrade", "head"]`. */
  command: string[];
  region: string;
  guest?: MachineGuest;
  env?: Record<string, string>;
  /** The app's secrets version (fly:Secrets `version`): the command sees the secrets set with it. */
  minSecretsVersion?: number;
  /** How long the command may run. @default 300 */
  timeoutSeconds?: number;
}

export interface ReleaseCommandOutputs extends ReleaseCommandInputs {
  /** The one-off machine of the last run (destroyed since). */
  machineId: string;
  exitCode: number;
  /** The image the last successful run used. */
  ranImage: string;
  ranAt: string;
}

/** A change of these runs the command again; any other change is only recorded. */
const rerunFields = ["appName", "image", "command"] as const;
const recordedFields = ["region", "guest", "env", "minSecretsVersion", "timeoutSeconds"] as const;

function label(inputs: Pick<ReleaseCommandInputs, "appName" | "command">): string {
  return `fly release command \`${inputs.command.join(" ")}\` in app '${inputs.appName}'`;
}

/** request.exit_event (or request.MonitorEvent.exit_event, which fly-go reads first) of a flyd exit event. */
interface ExitEvent {
  exit_code?: number;
  oom_killed?: boolean;
}

function exitEventOf(event: Schemas["MachineEvent"]): ExitEvent | undefined {
  if (event.type !== "exit") return undefined;
  // The spec types `request` as an untyped object; this shape is fly-go's MachineRequest.
  const request = (event.request ?? {}) as { exit_event?: ExitEvent; MonitorEvent?: { exit_event?: ExitEvent } };
  return request.MonitorEvent?.exit_event ?? request.exit_event ?? {};
}

/**
 * The run's machine name, the same for every run of this command on this image: machine names are unique in
 * an app, so a second run (the next `pulumi up` after a crash, or a create repeated after a lost answer)
 * finds the first one's machine instead of starting the migration alongside it.
 */
export function releaseMachineName(inputs: Pick<ReleaseCommandInputs, "image" | "command">): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const digest = createHash("sha256").update(JSON.stringify([inputs.image, inputs.command])).digest("hex").slice(0, 16);
  return `release-command-${digest}`;
}

/** Starts the run's machine, or joins the run of this image already under way. */
async function launch(api: FlyApi, inputs: ReleaseCommandInputs): Promise<FlyMachine> {
  const name = releaseMachineName(inputs);
  const running = await findMachineByName(api, inputs.appName, name);
  if (running) return running;
  const config = toConfig({
    appName: inputs.appName,
    name,
    region: inputs.region,
    image: inputs.image,
    guest: inputs.guest,
    env: { ...inputs.env, RELEASE_COMMAND: "1" },
    init: { cmd: inputs.command },
    restart: { policy: "no" },
    autoDestroy: true,
    processGroup: releaseCommandProcessGroup,
  });
  try {
    return await body(
      api.POST("/v1/apps/{app_name}/machines", {
        params: { path: { app_name: inputs.appName } },
        body: { name, region: inputs.region, config, min_secrets_version: inputs.minSecretsVersion },
      }),
    );
  } catch (error) {
    // A lost answer (the machine may exist) or 409 name taken (another run started it first): join that run.
    if (!(isStatus(error, 409) || isUnanswered(error))) throw error;
    const found = await findMachineByName(api, inputs.appName, name);
    if (!found) throw error;
    return found;
  }
}

/**
 * Runs the command in a one-off machine (auto_destroy, restart policy "no", no services: what flyctl does
 * for fly.toml's `release_command`), waits until the machine is gone and reads its exit code from the
 * machine's exit event. A non-zero exit code is an error, so nothing that depends on this resource (the
 * app's machines) is updated.
 */
async function run(inputs: ReleaseCommandInputs): Promise<ReleaseCommandOutputs> {
  const api = flyApi();
  const machine = await launch(api, inputs);
  const machineId = machine.id ?? "";
  const path = { app_name: inputs.appName, machine_id: machineId };
  const timeoutSeconds = inputs.timeoutSeconds ?? defaultTimeoutSeconds;
  try {
    await waitForMachineState(api, inputs.appName, machineId, "destroyed", { timeoutMs: timeoutSeconds * 1000 });
  } catch (error) {
    // Stopped here, so that a later run never migrates alongside a stale one.
    await ignoreNotFound(() => api.DELETE("/v1/apps/{app_name}/machines/{machine_id}", { params: { path, query: { force: true } } })).catch(
      () => undefined,
    );
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`${label(inputs)}: did not finish within ${timeoutSeconds}s (machine ${machineId}, destroyed now): ${detail}`);
  }
  const events = await body(api.GET("/v1/apps/{app_name}/machines/{machine_id}/events", { params: { path, query: { limit: 50 } } }));
  const exit = [...(events ?? [])]
    .sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))
    .map(exitEventOf)
    .find((event) => event !== undefined);
  const logs = `\`fly logs --app ${inputs.appName} --instance ${machineId}\``;
  if (!exit) {
    throw new Error(`${label(inputs)}: machine ${machineId} was destroyed without an exit event (did the image start?); see ${logs}`);
  }
  // fly-go marks exit_code `omitempty`: an exit event without one is a 0.
  const exitCode = exit.exit_code ?? 0;
  if (exitCode !== 0) {
    throw new Error(
      `${label(inputs)}: exited with code ${exitCode}${exit.oom_killed ? " (out of memory: raise `guest.memoryMb`)" : ""} ` +
        `in machine ${machineId} running image ${inputs.image}; the app's machines were not updated. See ${logs}`,
    );
  }
  return { ...inputs, machineId, exitCode, ranImage: inputs.image, ranAt: new Date().toISOString() };
}

export const releaseCommandProvider = dynamicProvider<ReleaseCommandInputs, ReleaseCommandOutputs>({
  async check(_olds, news) {
    const problems = failures("fly release command", isUnknown(news.appName) ? undefined : news.appName);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    checkRegion(problems, "region", news.region);
    if (!isUnknown(news.image)) problems.pattern("image", news.image, /^\S+$/, "an image reference such as `registry.fly.io/app:deployment-1`");
    const command: unknown = news.command;
    if (!isUnknown(command)) {
      if (!Array.isArray(command) || command.length === 0) problems.add("command", "must be a non-empty list of strings", command);
      else command.forEach((part: unknown, i) => {
        if (typeof part !== "string" && !isUnknown(part)) problems.add(`command[${i}]`, "must be a string", part);
      });
    }
    problems.integer("timeoutSeconds", news.timeoutSeconds, { min: 1, max: 3600 });
    // The guest and env follow the machine rules (memory steps, cpu kinds, variable names).
    if (news.guest !== undefined && !isUnknown(news.guest)) checkGuest(problems, news.guest);
    checkEnv(problems, "env", news.env);
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    const replaces = changedFields({ ...olds }, { ...news }, ["appName"]);
    const changes = replaces.length > 0 || changedFields({ ...olds }, { ...news }, [...rerunFields, ...recordedFields]).length > 0;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  // A run, not a remote object: read has nothing to refresh and delete cannot undo it.
  ...runOnceLifecycle<ReleaseCommandInputs, ReleaseCommandOutputs>({ run, rerunFields, idOf: (inputs) => `${inputs.appName}/release-command` }),
});

export interface ReleaseCommandArgs {
  /** The app whose image the command runs in. Changing it runs the command in the new app. */
  appName: pulumi.Input<string>;
  /** The app's new image; a new value runs the command again (once per deploy). */
  image: pulumi.Input<string>;
  /**
   * The command, fly.toml's `[deploy] release_command`.
   * @example `["alembic", "upgrade", "head"]`
   */
  command: pulumi.Input<pulumi.Input<string>[]>;
  /** Region of the one-off machine, e.g. `ams`. */
  region: pulumi.Input<string>;
  /** Size of the one-off machine. @default `shared-cpu-1x, 256 MB` */
  guest?: DeepInput<MachineGuest>;
  /** Plain environment (secrets come from the app's secrets). `RELEASE_COMMAND=1` is always added, as flyctl does. */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Pass the Secrets resource's `version`, so the command sees the secrets of this deploy. */
  minSecretsVersion?: pulumi.Input<number>;
  /** How long the command may run before it is stopped and the deploy fails. @default `300` */
  timeoutSeconds?: pulumi.Input<number>;
}

/**
 * fly.toml's `release_command` (seed 001's `alembic upgrade head` on deploy): runs once when created and
 * again for each new image, in a one-off machine; a non-zero exit code fails the deploy. Make the app's
 * machines depend on it, so they roll only after it succeeded.
 */
export class ReleaseCommand extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly image: pulumi.Output<string>;
  declare readonly command: pulumi.Output<string[]>;
  declare readonly machineId: pulumi.Output<string>;
  declare readonly exitCode: pulumi.Output<number>;
  declare readonly ranImage: pulumi.Output<string>;
  declare readonly ranAt: pulumi.Output<string>;

  constructor(name: string, args: ReleaseCommandArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      releaseCommandProvider,
      name,
      { ...args, machineId: undefined, exitCode: undefined, ranImage: undefined, ranAt: undefined },
      opts,
      "fly",
      "ReleaseCommand",
    );
  }
}
