import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";

/** One wrangler `[[routes]]` entry. */
export interface CloudflareWorkerRouteArgs {
  /**
   * wrangler `pattern`: `host/path` with no scheme and no query. The host may begin with `*` (host and subhosts) or
   * `*.` (subhosts only); the path may end with `*`. Without a scheme the route covers both HTTP and HTTPS.
   * @example `"api.example.com/*"`
   */
  pattern: string;
  /**
   * Id of the Cloudflare zone the pattern's host belongs to. wrangler's `zone_name` becomes this id: take it from
   * config, or look it up with `cloudflare.getZoneOutput({ filter: { name: "example.com" } }).zoneId`.
   * @example `"023e105f4ecef8ad9ca31a8372d0c353"`
   */
  zoneId: pulumi.Input<string>;
}

/** A wrangler `[[r2_buckets]]` entry for a bucket in a jurisdiction; a bucket without one is bound by its name alone. */
export interface CloudflareWorkerR2BindingArgs {
  /** wrangler `bucket_name`. @example `"media"` */
  bucketName: pulumi.Input<string>;
  /** The bucket's jurisdiction, `"eu"` or `"fedramp"`. @default none (the bucket has no jurisdiction) */
  jurisdiction?: pulumi.Input<string>;
}

export interface CloudflareWorkerArgs {
  /** Cloudflare account id the Worker belongs to. @example `"023e105f4ecef8ad9ca31a8372d0c353"` */
  accountId: pulumi.Input<string>;
  /**
   * The script name, wrangler `name`: lowercase letters, digits, `-` and `_`, at most 63, beginning and ending with a
   * letter or digit. Routes and the workers.dev URL refer to it.
   * @example `"my-proxy"`
   */
  name: string;
  /**
   * The Worker's code, wrangler `main`: a single, already bundled file of the program, read when the component is
   * constructed (a changed file is a new deploy). A relative path resolves against the program's working directory.
   * Only one of `scriptPath` or `content` can be provided.
   * @example `"worker/index.js"`
   */
  scriptPath?: string;
  /**
   * The Worker's code as a string, instead of `scriptPath`. Uploaded as `worker.js`.
   * @example `"export default { fetch: () => new Response('ok') };"`
   */
  content?: pulumi.Input<string>;
  /**
   * ES module syntax (`export default { fetch }`), uploaded as the main module; `false` for service-worker syntax
   * (`addEventListener("fetch", ...)`), uploaded as the body part. The part is named after the file.
   * @default `true` (wrangler's default for `main`)
   */
  module?: boolean;
  /**
   * wrangler `compatibility_date`, `YYYY-MM-DD`; required, as wrangler requires it.
   * @example `"2025-01-01"`
   */
  compatibilityDate: string;
  /** wrangler `compatibility_flags`. @default `[]` @example `["nodejs_compat"]` */
  compatibilityFlags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * wrangler `[vars]`: plain-text bindings, read in the Worker as `env.NAME`. Values may be other resources' outputs.
   * @default `{}`
   * @example `{ BACKEND_URL: backend.url }`
   */
  vars?: Record<string, pulumi.Input<string>>;
  /**
   * `wrangler secret put`: secret-text bindings, stored as Pulumi secrets. A name may not also be a var. With any
   * secret, Pulumi keeps the script's whole binding list secret (vars included) in state and previews.
   * @default `{}`
   * @example `{ API_KEY: config.requireSecret("apiKey") }`
   */
  secrets?: Record<string, pulumi.Input<string>>;
  /**
   * wrangler `[[r2_buckets]]`: binding name → bucket name (or bucket and jurisdiction).
   * @default `{}`
   * @example `{ MEDIA: bucket.bucketName }`
   */
  r2Buckets?: Record<string, pulumi.Input<string> | CloudflareWorkerR2BindingArgs>;
  /**
   * wrangler `[[routes]]`: URL patterns in zones that run this Worker. Patterns must be distinct.
   * @default `[]`
   * @example `[{ pattern: "api.example.com/*", zoneId }]`
   */
  routes?: CloudflareWorkerRouteArgs[];
  /**
   * wrangler `workers_dev`: serve the Worker on `<name>.<account subdomain>.workers.dev`. Left unset, the setting is
   * not managed and stays as Cloudflare has it.
   * @default Cloudflare's
   */
  workersDev?: boolean;
}

/** Module syntax unless told otherwise, as wrangler does for `main`. */
const defaultModule = true;
/** The part name for code given as `content`. */
const contentPartName = "worker.js";

/** Script names as the Workers API and wrangler accept them. */
export const workerNamePattern = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
/** Binding names are `env` properties: identifiers, in the environment-variable style wrangler uses. */
export const bindingNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * A route pattern: optional `*` or `*.` before the host, a hostname, then a path whose only wildcard is a trailing `*`
 * (Cloudflare refuses infix wildcards and queries).
 */
export const routePatternShape = /^(?:\*\.?)?(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+\/[^*?#\s]*\*?$/;
const compatibilityDateShape = /^\d{4}-\d{2}-\d{2}$/;

/** Why `pattern` is not a route pattern, or undefined when it is one. */
export function routePatternProblem(pattern: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pattern)) return "must not contain a scheme (leave it out and the route covers HTTP and HTTPS)";
  if (pattern.includes("?")) return "must not contain a query (Cloudflare refuses them in routes)";
  if (!routePatternShape.test(pattern)) {
    return "must be `host/path`, the host optionally starting with `*` or `*.` and the path ending in at most one `*`, e.g. `api.example.com/*`";
  }
  return undefined;
}

function isCalendarDate(date: string): boolean {
  if (!compatibilityDateShape.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

function checkArgs(name: string, args: CloudflareWorkerArgs): void {
  const fail = (message: string): never => {
    throw new Error(`CloudflareWorker '${name}': ${message}`);
  };
  if (!workerNamePattern.test(args.name)) {
    fail(`name must be 1-63 lowercase letters, digits, - or _, beginning and ending with a letter or digit, got '${args.name}'`);
  }
  if ((args.scriptPath === undefined) === (args.content === undefined)) {
    fail("only one of `scriptPath` or `content` can be provided, and one is required");
  }
  if (args.scriptPath !== undefined && args.scriptPath.trim() === "") fail("scriptPath must name a file, got ''");
  if (args.content === "") fail("content must not be empty");
  if (!isCalendarDate(args.compatibilityDate)) {
    fail(`compatibilityDate must be a date as YYYY-MM-DD (wrangler's compatibility_date), got '${args.compatibilityDate}'`);
  }
  const owners = new Map<string, string>();
  for (const [field, bindings] of [["vars", args.vars], ["secrets", args.secrets], ["r2Buckets", args.r2Buckets]] as const) {
    for (const binding of Object.keys(bindings ?? {})) {
      if (!bindingNamePattern.test(binding)) {
        fail(`${field}: binding name '${binding}' must be letters, digits and _, not starting with a digit (it is read as env.${binding})`);
      }
      const owner = owners.get(binding);
      if (owner !== undefined) fail(`${field}: binding '${binding}' is also in \`${owner}\`; a Worker's env has one value per name`);
      owners.set(binding, field);
    }
  }
  const patterns = new Set<string>();
  (args.routes ?? []).forEach((route, index) => {
    const problem = routePatternProblem(route.pattern);
    if (problem !== undefined) fail(`routes[${index}].pattern ${problem}, got '${route.pattern}'`);
    if (patterns.has(route.pattern)) fail(`routes[${index}].pattern '${route.pattern}' is listed twice`);
    patterns.add(route.pattern);
  });
}

/** The file's text; a missing or unreadable file fails naming the path as given and as resolved. */
function readScript(name: string, scriptPath: string): string {
  const resolved = path.resolve(process.cwd(), scriptPath);
  try {
    return fs.readFileSync(resolved, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`CloudflareWorker '${name}': scriptPath '${scriptPath}' cannot be read (resolved to ${resolved}): ${reason}`);
  }
}

function isR2Binding(value: pulumi.Input<string> | CloudflareWorkerR2BindingArgs): value is CloudflareWorkerR2BindingArgs {
  return typeof value === "object" && value !== null && !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

function bindingsOf(args: CloudflareWorkerArgs): cloudflare.types.input.WorkersScriptBinding[] {
  const vars = Object.entries(args.vars ?? {}).map(([name, text]) => ({ name, type: "plain_text", text }));
  const secrets = Object.entries(args.secrets ?? {}).map(([name, text]) => ({ name, type: "secret_text", text: pulumi.secret(text) }));
  const buckets = Object.entries(args.r2Buckets ?? {}).map(([name, bucket]) =>
    isR2Binding(bucket)
      ? { name, type: "r2_bucket", bucketName: bucket.bucketName, jurisdiction: bucket.jurisdiction }
      : { name, type: "r2_bucket", bucketName: bucket },
  );
  return [...vars, ...secrets, ...buckets];
}

/**
 * A Cloudflare Worker as `wrangler deploy` makes it from wrangler.toml: the script with its vars, secrets and R2
 * bindings, its routes in zones, and optionally its workers.dev setting. Built on the provider's `WorkersScript`
 * (the non-deprecated successor of `WorkerScript`), `WorkersRoute` and `WorkersScriptSubdomain`.
 *
 * @example
 * const proxy = new CloudflareWorker("proxy", {
 *   accountId, name: "my-proxy", scriptPath: "worker/index.js", compatibilityDate: "2025-01-01",
 *   vars: { BACKEND_URL: pulumi.interpolate`https://${backend.hostname}` },
 *   routes: [{ pattern: "api.example.com/*", zoneId }],
 * });
 */
export class CloudflareWorker extends pulumi.ComponentResource {
  /** The script name, once uploaded. */
  public readonly scriptName: pulumi.Output<string>;
  /** The route patterns, once each route exists. */
  public readonly routes: pulumi.Output<string[]>;

  constructor(name: string, args: CloudflareWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    const content = args.scriptPath !== undefined ? readScript(name, args.scriptPath) : (args.content as pulumi.Input<string>);
    const partName = args.scriptPath !== undefined ? path.basename(args.scriptPath) : contentPartName;
    super("platform:index:CloudflareWorker", name, {}, opts);

    const script = this.createScript(name, args, content, partName);
    const routes = (args.routes ?? []).map(
      (route) =>
        new cloudflare.WorkersRoute(
          `${name}-route-${route.pattern}`,
          { zoneId: route.zoneId, pattern: route.pattern, script: script.scriptName },
          { parent: this },
        ),
    );
    if (args.workersDev !== undefined) {
      new cloudflare.WorkersScriptSubdomain(
        `${name}-workers-dev`,
        { accountId: args.accountId, scriptName: script.scriptName, enabled: args.workersDev },
        { parent: this },
      );
    }

    this.scriptName = script.scriptName;
    this.routes = pulumi.all(routes.map((route) => route.pattern));
    this.registerOutputs({ scriptName: this.scriptName, routes: this.routes });
  }

  private createScript(name: string, args: CloudflareWorkerArgs, content: pulumi.Input<string>, partName: string): cloudflare.WorkersScript {
    const module = args.module ?? defaultModule;
    return new cloudflare.WorkersScript(
      `${name}-script`,
      {
        accountId: args.accountId,
        scriptName: args.name,
        content,
        ...(module ? { mainModule: partName } : { bodyPart: partName }),
        compatibilityDate: args.compatibilityDate,
        compatibilityFlags: args.compatibilityFlags ?? [],
        bindings: bindingsOf(args),
      },
      { parent: this },
    );
  }
}
