/**
 * What .github/workflows/preview-environment.yml does to a `pr-<number>` stack's config, read from the workflow
 * itself: the `pulumi config set` lines of its `up` step, with the values Pulumi stores for them. The programs'
 * preview tests build their config from this, so a key renamed in the workflow (or in a program) fails them.
 */
import { merge, type Json } from "../programs/program-harness";
import { stepRunning, workflow } from "../workflows/load";

export interface WorkflowConfigSet {
  /** The key without the project namespace, e.g. `preview.prNumber`. */
  key: string;
  /** Set with `--path`: the key is a path into an object, and the value is typed (see pathValue). */
  path: boolean;
  /** As written in the script: `preview`, `$PR_NUMBER`, `$BRANCH`. */
  value: string;
}

const previewWorkflow = () => workflow("preview-environment.yml");

/** The `pulumi config set --stack "$stack" …` lines of the `up` step, in order. */
export function workflowConfigSets(): WorkflowConfigSet[] {
  const run = stepRunning(previewWorkflow().jobs.up, /pulumi up/).run ?? "";
  const lines = [...run.matchAll(/^\s*pulumi config set --stack "\$stack" (--path )?(\S+) (?:-- )?(\S+)\s*$/gm)];
  return lines.map((line) => ({ key: line[2], path: line[1] !== undefined, value: line[3].replace(/^"(.*)"$/, "$1") }));
}

/** The template stack the workflow copies into every `pr-<number>` stack (its `TEMPLATE_STACK`). */
export function templateStack(): string {
  return String(previewWorkflow().env?.TEMPLATE_STACK);
}

/** The program directories the workflow deploys previews of (its matrix). */
export function previewPrograms(): string[] {
  return (previewWorkflow().jobs.up.strategy?.matrix as { program: string[] }).program;
}

/**
 * The value Pulumi stores for `pulumi config set --path <key> <text>` (pkg/resource/config's adjustObjectValue):
 * `true`/`false` become booleans, text Go's strconv.Atoi reads becomes a number unless it starts with `0`, the
 * rest stays text. So PR number `12` arrives as the number 12, and a branch named `123` as a number too.
 */
export function pathValue(text: string): string | number | boolean {
  if (text === "true" || text === "false") return text === "true";
  if (text.length > 1 && text.startsWith("0")) return text;
  if (/^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  return text;
}

function setPath(target: Json, path: string, value: unknown): Json {
  const [head, ...rest] = path.split(".");
  if (rest.length === 0) return { ...target, [head]: value };
  const inner = typeof target[head] === "object" && target[head] !== null ? (target[head] as Json) : {};
  return { ...target, [head]: setPath(inner, rest.join("."), value) };
}

/**
 * The keys the workflow sets for pull request `prNumber` from `branch` (no namespace, `--path` keys nested), as
 * the program then reads them over the template's.
 */
export function workflowConfig(prNumber: number, branch: string): Json {
  const variables: Record<string, string> = { PR_NUMBER: String(prNumber), BRANCH: branch };
  let config: Json = {};
  for (const set of workflowConfigSets()) {
    const text = set.value.replace(/^\$([A-Z_]+)$/, (_whole, name: string) => {
      const value = variables[name];
      if (value === undefined) throw new Error(`preview-environment.yml sets ${set.key} from $${name}, which the test does not know`);
      return value;
    });
    config = set.path ? merge(config, setPath({}, set.key, pathValue(text))) : { ...config, [set.key]: text };
  }
  return config;
}
