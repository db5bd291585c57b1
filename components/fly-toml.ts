/**
 * fly.toml as FlyApp's base config. `flyTomlToArgs` maps every key Fly documents
 * (https://fly.io/docs/reference/configuration/) onto FlyApp's args, or refuses it naming the key and why, the way
 * flyctl's internal/appconfig reads the file; `withFlyToml` lays the program's args over the result (FlyApp does
 * it when given `flyTomlPath` or `flyTomlText`). A section without `processes` belongs to the default process group
 * (`app`, or the first group by name), as flyctl flattens it, except `[[vm]]`, `[[statics]]` and the top-level
 * runtime keys, which apply to every group.
 */
import { readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "smol-toml";
import { dropUndefined } from "../dynamic-providers/fly/machine-config";
import type { FlyAppArgs, FlyHttpServiceArgs, FlyProcessGroupArgs, FlyReleaseCommandArgs, FlyVolumeArgs } from "./fly-app";
import { FlyTomlReader } from "./fly-toml-reader";
import { TomlProblems, TomlSection, type TomlTable } from "./fly-toml-values";

/** What a fly.toml gives FlyApp: a partial FlyAppArgs of plain values. */
export interface FlyTomlArgs {
  /** `app` */
  appName?: string;
  /** `primary_region`; FlyApp then also sets PRIMARY_REGION in the machines' env, as `fly deploy` does. */
  primaryRegion?: string;
  /** `[build] image` */
  image?: string;
  /** `[env]` */
  env?: Record<string, string>;
  /** `[processes]` (`app` when the file has none), each with what the sections naming it give; the default group first. */
  processGroups: Record<string, FlyProcessGroupArgs>;
  /** `[[mounts]]`, by `source`. */
  volumes?: Record<string, FlyVolumeArgs>;
  /** `[deploy] release_command`, `release_command_timeout`, `release_command_vm`. */
  releaseCommand?: FlyReleaseCommandArgs;
  /** `[build]` keys only `fly deploy`'s builder reads (`[build].dockerfile`): FlyApp refuses them unless the program gives `image`. */
  builderKeys?: string[];
}

/** A process group's fields over the fly.toml's; `httpService` field by field. */
export interface FlyProcessGroupOverrides extends Omit<FlyProcessGroupArgs, "httpService"> {
  /** Over the file's `[http_service]` for this group, e.g. `{ minMachinesRunning: 1 }`; `internalPort` is required when the file has none. */
  httpService?: Partial<FlyHttpServiceArgs>;
}

/**
 * FlyApp from a fly.toml with the program's args on top: every field given here wins over the file's; `env` and
 * `volumes` are merged name by name, `processGroups` group by group.
 */
export interface FlyAppFromTomlArgs extends Partial<Omit<FlyAppArgs, "processGroups" | "orgSlug">> {
  /**
   * The fly.toml to read, relative to the directory `pulumi up` runs in; `[[files]] local_path` is relative to it.
   * Exactly one of `flyTomlPath` and `flyTomlText`.
   * @default none
   * @example `"fly.toml"`
   */
  flyTomlPath?: string;
  /**
   * The fly.toml's text instead of a path; `[[files]] local_path` is then relative to the working directory.
   * @default none
   * @example `'app = "acme-web"\nprimary_region = "ams"\n[http_service]\n  internal_port = 8080'`
   */
  flyTomlText?: string;
  /** Fly organization slug (fly.toml has none). @example `"personal"` */
  orgSlug: pulumi.Input<string>;
  /**
   * Over the file's process groups by name (`count` is never in the file); a name the file lacks adds a group.
   * @default `{}`
   * @example `{ app: { count: 2, httpService: { minMachinesRunning: 1 } } }`
   */
  processGroups?: Record<string, FlyProcessGroupOverrides>;
}

/** Reads a fly.toml file; errors name the file and the key. */
export function readFlyToml(file: string): FlyTomlArgs {
  return flyTomlToArgs(readFileSync(file, "utf8"), file);
}

/**
 * Maps a fly.toml onto FlyApp's args. `source` is the file's path, named in errors and the base of `[[files]]
 * local_path`. Throws one error listing every key refused: `fly.toml [[vm]][0].memory: must be a multiple of 256, got 300`.
 */
export function flyTomlToArgs(text: string, source?: string): FlyTomlArgs {
  const file = source ?? "fly.toml";
  let document: TomlTable;
  try {
    document = parse(text, { unsafeKeyBehaviour: "throw" });
  } catch (error) {
    throw new Error(`${file}: not valid TOML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const problems = new TomlProblems(file);
  const args = new FlyTomlReader(problems, source ? path.dirname(source) : process.cwd()).read(new TomlSection(problems, "", document));
  const messages = problems.messages();
  if (messages.length > 0) throw new Error(messages.join("\n"));
  return args;
}

/** Whether FlyApp was given a fly.toml. */
export function isFromFlyToml(args: FlyAppArgs | FlyAppFromTomlArgs): args is FlyAppFromTomlArgs {
  return "flyTomlPath" in args || "flyTomlText" in args;
}

/**
 * The program's args over the fly.toml's: fields given win; `env` (over the file's `[env]` and PRIMARY_REGION) and
 * `volumes` merge by name; process groups merge by name, `httpService` field by field; `releaseCommand` field by field.
 */
export function withFlyToml(name: string, args: FlyAppFromTomlArgs): FlyAppArgs {
  const fail = (message: string): never => {
    throw new Error(`FlyApp '${name}': ${message}`);
  };
  const { flyTomlPath, flyTomlText, processGroups, env, volumes, releaseCommand, ...own } = args;
  if ((flyTomlPath === undefined) === (flyTomlText === undefined)) fail("give exactly one of `flyTomlPath` or `flyTomlText`");
  const file = flyTomlPath ?? "fly.toml";
  let base: FlyTomlArgs;
  try {
    base = flyTomlPath !== undefined ? readFlyToml(flyTomlPath) : flyTomlToArgs(flyTomlText ?? "");
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const builder = base.builderKeys ?? [];
  if (args.image === undefined && builder.length > 0) {
    fail(
      `${file} ${builder.join(", ")}: ${builder.length === 1 ? "needs" : "need"} \`fly deploy\`'s builder, which FlyApp does not run; ` +
        "build and push the image in CI and pass it as `image`",
    );
  }
  const image = args.image ?? base.image ?? fail(`\`image\` is required: ${file} has no [build] image; pass the image CI built and pushed`);
  const appName = args.appName ?? base.appName ?? fail(`\`appName\` is required: ${file} has no \`app\``);
  const primaryRegion = args.primaryRegion ?? base.primaryRegion ?? fail(`\`primaryRegion\` is required: ${file} has no \`primary_region\``);
  return dropUndefined({
    ...own,
    appName,
    primaryRegion,
    image,
    processGroups: mergeGroups(fail, base.processGroups, processGroups ?? {}),
    env: mergeEnv(base, primaryRegion, env),
    volumes: mergeRecords(base.volumes, volumes),
    releaseCommand: base.releaseCommand && releaseCommand ? { ...base.releaseCommand, ...dropUndefined(releaseCommand) } : (releaseCommand ?? base.releaseCommand),
  });
}

function mergeGroups(
  fail: (message: string) => never,
  base: Record<string, FlyProcessGroupArgs>,
  over: Record<string, FlyProcessGroupOverrides>,
): Record<string, FlyProcessGroupArgs> {
  const names = [...Object.keys(base), ...Object.keys(over).filter((group) => !(group in base))];
  return Object.fromEntries(
    names.map((group) => {
      const fromFile = base[group] ?? {};
      const own = over[group];
      if (!own) return [group, fromFile];
      const http = fromFile.httpService || own.httpService ? { ...fromFile.httpService, ...dropUndefined(own.httpService ?? {}) } : undefined;
      if (http && http.internalPort === undefined) {
        fail(`processGroups.${group}.httpService.internalPort is required: the fly.toml has no [http_service] for group '${group}'`);
      }
      return [group, dropUndefined({ ...fromFile, ...dropUndefined(own), httpService: http as FlyHttpServiceArgs | undefined })];
    }),
  );
}

/** The file's `[env]`, then PRIMARY_REGION (from the region the app ends up in, as `fly deploy` sets it), then the program's. */
function mergeEnv(base: FlyTomlArgs, primaryRegion: pulumi.Input<string>, env: FlyAppArgs["env"]): FlyAppArgs["env"] {
  if (base.env === undefined && base.primaryRegion === undefined) return env;
  return pulumi
    .all([pulumi.output(base.env ?? {}), pulumi.output(primaryRegion), pulumi.output(env ?? {})])
    .apply(([file, region, own]) => ({ ...file, ...(base.primaryRegion !== undefined ? { PRIMARY_REGION: region } : {}), ...own }));
}

function mergeRecords<T extends object>(base: Record<string, T> | undefined, over: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!base || !over) return over ?? base;
  const merged: Record<string, T> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = { ...base[key], ...dropUndefined(value) };
  return merged;
}
