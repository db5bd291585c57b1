import type { Reader } from "./reader";
import { envNameRule, patterns } from "./rules";

/** Names a stack may not set in an env map, and the rule that says why (`is a secret the platform sets; …`); the fix removes them. */
export interface ReservedNames {
  readonly names: readonly string[];
  readonly rule: string;
}

/** Environment variables at `path`: `defaults` merged under the stack's own, names checked, reserved names refused. */
export function readEnv(read: Reader, path: string, value: unknown, defaults: Record<string, string>, reserved?: ReservedNames): Record<string, string> {
  const env = read.textMap(path, value);
  for (const name of Object.keys(env)) {
    if (!patterns.envName.test(name)) read.problems.add(`${path}.${name}`, `must be ${envNameRule}`);
    else if (reserved?.names.includes(name)) read.unknown(`${path}.${name}`, reserved.rule);
  }
  return { ...defaults, ...env };
}
