import * as pulumi from "@pulumi/pulumi";
import { changedFields, failures, isUnknown } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { runOnceLifecycle } from "../core/run-once";
import { sleep } from "../core/retry";
import { appNamePattern } from "./app";
import { body, flyApi, flyFetch, isStatus, isUnanswered } from "./client";

const defaultTimeoutSeconds = 60;
const defaultRetryDelaySeconds = 5;
/** Output kept in state per stream: enough to see what happened, not a log store. */
const maxOutputChars = 4096;

export interface MachineExecInputs {
  appName: string;
  machineId: string;
  /** argv, run without a shell, e.g. `["prefect", "work-pool", "create", "default-pool", "--type", "process", "--overwrite"]`. */
  command: string[];
  /** Any value; a new one runs the command again (e.g. the image, so the command follows each deploy). */
  trigger?: string;
  /** Seconds the API lets the command run. @default 60 */
  timeoutSeconds?: number;
  /** Runs in total while the command exits non-zero (a server still starting). @default 1 */
  attempts?: number;
  /** @default 5 */
  retryDelaySeconds?: number;
}

export interface MachineExecOutputs extends MachineExecInputs {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A change of these runs the command again. */
const rerunFields = ["appName", "machineId", "command", "trigger"] as const;
const recordedFields = ["timeoutSeconds", "attempts", "retryDelaySeconds"] as const;

function tail(text: string | undefined): string {
  const value = text ?? "";
  return value.length > maxOutputChars ? `…${value.slice(-maxOutputChars)}` : value;
}

async function run(inputs: MachineExecInputs): Promise<MachineExecOutputs> {
  const api = flyApi();
  const path = { app_name: inputs.appName, machine_id: inputs.machineId };
  const attempts = inputs.attempts ?? 1;
  const label = `fly exec \`${inputs.command.join(" ")}\` in machine ${inputs.machineId} of app '${inputs.appName}'`;
  for (let attempt = 1; ; attempt++) {
    let result;
    try {
      result = await body(
        api.POST("/v1/apps/{app_name}/machines/{machine_id}/exec", {
          params: { path },
          body: { command: inputs.command, timeout: inputs.timeoutSeconds ?? defaultTimeoutSeconds },
          // The answer comes when the command has finished: the attempt may take that long, and some more.
          fetch: flyFetch({ attemptTimeoutMs: ((inputs.timeoutSeconds ?? defaultTimeoutSeconds) + 30) * 1000 }),
        }),
      );
    } catch (error) {
      if (isStatus(error, 409)) {
        throw new Error(`${label}: the machine's lease is held by another deploy (flyctl or CI); retry when it has finished`);
      }
      // No answer (dropped, timed out, 5xx): the command may or may not have run (or still be running). Given more
      // attempts, the program declared it safe to run again, as after a non-zero exit.
      const unanswered = isUnanswered(error);
      if (!unanswered || attempt >= attempts) throw error;
      await sleep((inputs.retryDelaySeconds ?? defaultRetryDelaySeconds) * 1000);
      continue;
    }
    const outs: MachineExecOutputs = { ...inputs, exitCode: result.exit_code ?? 0, stdout: tail(result.stdout), stderr: tail(result.stderr) };
    if (outs.exitCode === 0) return outs;
    if (attempt >= attempts) {
      const detail = (outs.stderr || outs.stdout).trim().split("\n").slice(-5).join("\n");
      throw new Error(`${label}: exited with code ${outs.exitCode} after ${attempt} attempt(s)${detail ? `:\n${detail}` : ""}`);
    }
    await sleep((inputs.retryDelaySeconds ?? defaultRetryDelaySeconds) * 1000);
  }
}

export const machineExecProvider = dynamicProvider<MachineExecInputs, MachineExecOutputs>({
  async check(_olds, news) {
    const problems = failures("fly exec", isUnknown(news.machineId) ? undefined : news.machineId);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    if (!isUnknown(news.machineId)) problems.pattern("machineId", news.machineId, /^[0-9a-f]{14}$/, "a machine id such as `e784079b449483`");
    const command: unknown = news.command;
    if (!isUnknown(command)) {
      if (!Array.isArray(command) || command.length === 0) problems.add("command", "must be a non-empty list of strings", command);
      else command.forEach((part: unknown, i) => {
        if (typeof part !== "string" && !isUnknown(part)) problems.add(`command[${i}]`, "must be a string", part);
      });
    }
    problems.integer("timeoutSeconds", news.timeoutSeconds, { min: 1, max: 3600 });
    problems.integer("attempts", news.attempts, { min: 1, max: 100 });
    problems.integer("retryDelaySeconds", news.retryDelaySeconds, { min: 0, max: 600 });
    return { inputs: news, failures: problems.list };
  },

  async diff(_id, olds, news) {
    return { changes: changedFields({ ...olds }, { ...news }, [...rerunFields, ...recordedFields]).length > 0, replaces: [], deleteBeforeReplace: false };
  },

  // A run, not a remote object: read has nothing to refresh and delete cannot undo it.
  ...runOnceLifecycle<MachineExecInputs, MachineExecOutputs>({ run, rerunFields, idOf: (inputs) => `${inputs.appName}/${inputs.machineId}/${inputs.command.join(" ")}` }),
});

export interface MachineExecArgs {
  /** The app of the machine. */
  appName: pulumi.Input<string>;
  /** The machine to run in (a Machine resource's `machineId`); a new machine runs the command again. */
  machineId: pulumi.Input<string>;
  /**
   * argv, run without a shell.
   * @example `["prefect", "work-pool", "create", "default-pool", "--type", "process", "--overwrite"]`
   */
  command: pulumi.Input<pulumi.Input<string>[]>;
  /** A new value runs the command again, e.g. the app's image. @default none: runs on create and on a command change */
  trigger?: pulumi.Input<string>;
  /** Seconds the command may run. @default `60` */
  timeoutSeconds?: pulumi.Input<number>;
  /**
   * Runs in total while the command exits non-zero, e.g. while a server in the machine is still starting. An exec
   * that got no answer (dropped, timed out, 5xx) counts as a failed attempt and runs again, though the first may
   * still be running: give more than 1 only to a command that is safe to run twice, even at once.
   * @default `1`
   */
  attempts?: pulumi.Input<number>;
  /** Seconds between attempts. @default `5` */
  retryDelaySeconds?: pulumi.Input<number>;
}

/**
 * A command run inside a running machine through the Machines API's exec endpoint (what `fly ssh console
 * -C "..."` was used for by hand). Runs on create and when the command, machine or trigger changes; a
 * non-zero exit code fails. Commands should be idempotent: they run again after each new trigger.
 */
export class MachineExec extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly machineId: pulumi.Output<string>;
  declare readonly command: pulumi.Output<string[]>;
  declare readonly exitCode: pulumi.Output<number>;
  declare readonly stdout: pulumi.Output<string>;
  declare readonly stderr: pulumi.Output<string>;

  constructor(name: string, args: MachineExecArgs, opts?: pulumi.CustomResourceOptions) {
    super(machineExecProvider, name, { ...args, exitCode: undefined, stdout: undefined, stderr: undefined }, opts, "fly", "MachineExec");
  }
}
