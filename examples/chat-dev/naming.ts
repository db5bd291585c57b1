/**
 * chat-dev's names per environment (seed 003): the three Fly apps and the server's volume, and the rule that
 * turns a feature branch into the preview apps' prefix (`feature/addabutton` → `addabutton-chat-dev-web-dev`).
 */
import { createHash } from "node:crypto";

export const environments = ["production", "staging", "preview"] as const;
export type Environment = (typeof environments)[number];

/** The branches the guide deploys as previews ("Pushes to origin/feature/<slug> or origin/features/<slug>"). */
export const previewBranchPrefixes = ["feature/", "features/"] as const;

export interface ChatDevNames {
  worker: string;
  server: string;
  web: string;
  /** The server's SQLite volume. */
  volume: string;
}

const system = "chat-dev";
const components = ["worker", "server", "web"] as const;
/** Fly's limit on an app name (it is the `<app>.fly.dev` DNS label). */
const flyAppNameMaxLength = 63;
/** Hex digits of the full slug's SHA-256 that keep two long branches apart once cut. */
const hashLength = 6;

/** The longest slug that still fits every preview app name: 63 less `-chat-dev-worker-dev` (20), so 43. */
export const maxSlugLength = flyAppNameMaxLength - Math.max(...components.map((component) => `-${system}-${component}-dev`.length));

/**
 * What is wrong with `branch` as a preview branch, completing "must …"; undefined when it is one. A name below
 * `feature/` with another `/` is refused because GitHub's `feature/*` deployment policy (and a workflow's
 * `branches: feature/*`) does not match it, so CI could never deploy it.
 */
export function previewBranchProblem(branch: string): string | undefined {
  const prefix = previewBranchPrefixes.find((candidate) => branch.startsWith(candidate));
  if (prefix === undefined) return `must start with ${previewBranchPrefixes.join(" or ")} (the branches the guide deploys as previews)`;
  const rest = branch.slice(prefix.length);
  if (rest.includes("/")) return `must have one level below ${prefix} (GitHub's \`${prefix}*\` branch policy does not match '${rest}')`;
  if (cleaned(rest) === "") return `must have a letter or digit after ${prefix} for the preview app names`;
  return undefined;
}

/** Lowercase, every run of other characters one dash, no dash at either end. */
function cleaned(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The preview prefix of a feature branch: what follows `feature/` or `features/`, lowercased, each run of
 * characters a Fly app name cannot hold (dots, underscores, spaces…) made one dash, dashes trimmed from both
 * ends. A slug longer than `maxSlugLength` is cut and ends with 6 hex digits of the whole slug's SHA-256, so
 * two long branches sharing a beginning still get different apps. `feature/x` and `features/x` are the same
 * preview, as in the guide.
 *
 * @example previewSlug("feature/addabutton") === "addabutton"
 * @example previewSlug("features/Fix_Login.Page") === "fix-login-page"
 */
export function previewSlug(branch: string): string {
  const problem = previewBranchProblem(branch);
  if (problem !== undefined) throw new Error(`preview branch '${branch}' ${problem}`);
  const prefix = previewBranchPrefixes.find((candidate) => branch.startsWith(candidate)) ?? "";
  const slug = cleaned(branch.slice(prefix.length));
  if (slug.length <= maxSlugLength) return slug;
  const hash = createHash("sha256").update(slug).digest("hex").slice(0, hashLength);
  return `${slug.slice(0, maxSlugLength - hashLength - 1).replace(/-+$/, "")}-${hash}`;
}

/**
 * The preview prefix of a pull request (the preview-environment workflow's `chat-dev:preview.branch` and
 * `preview.prNumber`): a branch the guide deploys (`feature/<slug>`, `features/<slug>`, one level) keeps the
 * guide's slug, so its apps are the ones the guide names; any other branch (`main`, `fix/login`,
 * `feature/a/b`, `dependabot/…`) gets `pr-<number>`.
 *
 * @example pullRequestSlug("feature/addabutton", 12) === "addabutton"
 * @example pullRequestSlug("fix/login", 12) === "pr-12"
 */
export function pullRequestSlug(branch: string, prNumber: number): string {
  if (!Number.isSafeInteger(prNumber) || prNumber < 1) throw new Error(`pull request number must be a whole number from 1, got ${JSON.stringify(prNumber)}`);
  return previewBranchProblem(branch) === undefined ? previewSlug(branch) : `pr-${prNumber}`;
}

/**
 * The guide's names: production `chat-dev-<component>`, staging `chat-dev-<component>-dev`, a preview
 * `<slug>-chat-dev-<component>-dev`. The volume is `chat_dev_data_dev` in staging and every preview (the
 * guide's name); production's `chat_dev_data` is this program's choice, the guide does not name it.
 */
export function chatDevNames(environment: Environment, slug?: string): ChatDevNames {
  if (environment === "preview" && (slug === undefined || slug === "")) throw new Error("chatDevNames: a preview needs its branch's slug");
  const app = (component: (typeof components)[number]): string => {
    if (environment === "production") return `${system}-${component}`;
    return environment === "staging" ? `${system}-${component}-dev` : `${slug}-${system}-${component}-dev`;
  };
  return { worker: app("worker"), server: app("server"), web: app("web"), volume: environment === "production" ? "chat_dev_data" : "chat_dev_data_dev" };
}
