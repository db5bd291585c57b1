/**
 * How stack config problems are collected and reported: every problem names its `<namespace>:<key>`, the
 * rule and the value, and ends with the command that fixes it; a program throws them all in one ConfigError.
 */
import { failures, type CheckFailure, type Failures } from "../dynamic-providers/core/check";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`stack config has ${problems.length} problem(s); fix them all and run again:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const label = "stack config";

/** A Failures for stack config: properties are full keys (`platform:fly.region`), messages say the rule and the value. */
export function configFailures(): Failures {
  return failures(label, undefined);
}

/** A Failures whose properties are renamed before they are recorded. */
export function renamed(problems: Failures, rename: (property: string) => string): Failures {
  return {
    list: problems.list,
    add: (property, rule, value) => problems.add(rename(property), rule, value),
    oneOf: (property, value, allowed, required) => problems.oneOf(rename(property), value, allowed, required),
    integer: (property, value, range) => problems.integer(rename(property), value, range),
    pattern: (property, value, regex, rule, required) => problems.pattern(rename(property), value, regex, rule, required),
  };
}

/** A Failures whose properties are relative to `prefix`, so a provider's own rules name stack config keys. */
export function under(problems: Failures, prefix: string): Failures {
  return renamed(problems, (property) => prefix + property);
}

export interface ExplainContext {
  /** Full keys (`platform:wroker`) that are set but not read: the fix removes them. */
  readonly unknownKeys: readonly string[];
  /** Full keys of secrets: the fix sets them with `--secret`. */
  readonly secretKeys: readonly string[];
  /** An example value per full key, shown in the fix instead of `<value>`. */
  readonly examples?: ReadonlyMap<string, string>;
}

/** A word as the shell reads it: quoted unless it is plain. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The problem's message plus the command that fixes it. */
export function explain(problem: CheckFailure, context: ExplainContext): string {
  const message = problem.reason.slice(`${label}: `.length);
  const key = problem.property;
  const nested = /[.[]/.test(key.slice(key.indexOf(":") + 1));
  const quoted = nested ? `'${key}'` : key;
  const path = nested ? "--path " : "";
  if (context.unknownKeys.includes(key)) return `${message}; remove it with \`pulumi config rm ${path}${quoted}\``;
  const example = context.examples?.get(key);
  const value = example === undefined ? "<value>" : shellWord(example);
  if (context.secretKeys.includes(key)) return `${message}; set it with \`pulumi config set --secret ${key} ${value}\``;
  return `${message}; set it with \`pulumi config set ${path}${quoted} ${value}\``;
}
