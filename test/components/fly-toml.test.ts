/**
 * fly.toml → FlyApp: the seeds' own fly.toml files give the machines their programs write by hand (the programs run
 * under the mock runtime, then FlyApp is built from the file plus the program's overrides); a table of snippets from
 * Fly's configuration reference, each mapped or refused naming its key; a bad file refused key by key; and how the
 * program's args lie over the file's.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlyApp as FlyAppClass } from "../../components/fly-app";
import { flyTomlToArgs, readFlyToml, type FlyAppFromTomlArgs, type FlyTomlArgs } from "../../components/fly-toml";
import { resource, reveal, runProgram, type Json, type StackRun } from "../programs/program-harness";
import { providerCall, providerOutputsFor, types } from "../programs/provider-mocks";
import { valueOf } from "./fly-mocks";
import { recordingMocks } from "./recording-mocks";

const fixtures = join(__dirname, "fixtures", "fly-toml");
/** Seed 002's Backend-RAG fly.toml and seed 004's Prefect server fly.toml, copied verbatim from the guides. */
const nuzantaraToml = join(fixtures, "nuzantara-rag.fly.toml");
const prefectToml = join(fixtures, "prefect.fly.toml");

const flyVolume = "pulumi-nodejs:dynamic/fly:Volume";

/** Resources FlyApp registers, answered as the program runs answer them, so both sides compare value for value. */
const mocks = recordingMocks({ outputsFor: providerOutputsFor, call: providerCall });
let FlyApp: typeof FlyAppClass;

async function buildFlyApp(name: string, args: FlyAppFromTomlArgs): Promise<Map<string, Json>> {
  await mocks.install();
  mocks.registered.clear();
  FlyApp ??= (await import("../../components/fly-app")).FlyApp;
  const app = new FlyApp(name, args);
  await valueOf(app.machineIds);
  let seen = -1;
  for (let quiet = 0; quiet < 5; ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    quiet = mocks.registered.size === seen ? quiet + 1 : 0;
    seen = mocks.registered.size;
  }
  // Without the serialized provider, as the program harness records inputs.
  return new Map([...mocks.registered.values()].map(({ type, name, inputs: { __provider: _provider, ...inputs } }) => [`${type}::${name}`, reveal(inputs) as Json]));
}

function registered(map: Map<string, Json>, type: string, name: string): Json {
  const found = map.get(`${type}::${name}`);
  if (!found) throw new Error(`no ${type} '${name}' (have ${[...map.keys()].join(", ")})`);
  return found;
}

function parseError(text: string): string {
  try {
    flyTomlToArgs(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the fly.toml was accepted");
}

describe("the seeds' fly.toml give the machines their programs write by hand", () => {
  let nuzantara: StackRun;
  let captionacc: StackRun;

  beforeAll(async () => {
    nuzantara = await runProgram({
      dir: "examples/nuzantara",
      stack: "production",
      provided: { cloudflare: { accountId: "0123456789abcdef0123456789abcdef", zoneId: "fedcba9876543210fedcba9876543210" }, github: { repository: "balizero/nuzantara" } },
      // The backup bucket only adds secrets, not machine settings; without it the run needs no R2 token.
      overrides: { backups: { enabled: false } },
      secrets: { anthropicApiKey: "sk-ant-dummy", openaiApiKey: "sk-dummy", databaseUrl: "postgres://u:p@db.flycast:5432/rag", redisUrl: "rediss://default:p@r.upstash.io:6379" },
    });
    captionacc = await runProgram({
      dir: "examples/captionacc",
      stack: "production",
      provided: { github: { repository: "example-org/captionacc" } },
      secrets: { supabaseDatabaseUrl: "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/prefect" },
    });
  });

  it("seed 002: nuzantara-rag's fly.toml + the image, org and secrets = examples/nuzantara's `rag` machine and volume", async () => {
    const byHand = reveal(resource(nuzantara, types.flyMachine, "rag-app-0").inputs) as Json;
    const fromToml = await buildFlyApp("rag", {
      flyTomlPath: nuzantaraToml,
      // What the program adds that no fly.toml holds: the org, the image CI pushed, the secrets, CI's deploy token.
      orgSlug: "personal",
      image: "registry.fly.io/nuzantara-rag:latest",
      secrets: { OPENAI_API_KEY: "sk-dummy" },
      deployToken: {},
      adopt: false,
    });
    // fly deploy sets PRIMARY_REGION from primary_region; the hand-written program never did.
    expect(registered(fromToml, types.flyMachine, "rag-app-0")).toEqual({ ...byHand, env: { ...(byHand.env as Json), PRIMARY_REGION: "sin" } });
    expect(byHand).toMatchObject({ guest: { cpuKind: "shared", cpus: 2, memoryMb: 2048 }, stop: { signal: "SIGTERM", timeout: "30s" } });
    expect(registered(fromToml, flyVolume, "rag-chroma_data_complete-app-0")).toEqual(reveal(resource(nuzantara, flyVolume, "rag-chroma_data_complete-app-0").inputs));
  });

  it("seed 004: prefect's fly.toml + what PrefectServer adds = examples/captionacc's Prefect machine", async () => {
    const byHand = reveal(resource(captionacc, types.flyMachine, "prefect-app-0").inputs) as Json;
    const fromToml = await buildFlyApp("prefect", {
      flyTomlPath: prefectToml,
      orgSlug: "personal",
      // PrefectServer's own choices over the guide: Prefect 3's image and command (the guide's Dockerfile CMD), 512 MB
      // (Prefect 3 is OOM-killed at 256), the client URLs, the database URL and auth string as secrets, public IPs.
      image: "prefecthq/prefect:3-python3.12",
      env: { PREFECT_API_URL: "http://localhost:4200/api", PREFECT_UI_API_URL: "https://prefect.fly.dev/api" },
      secrets: { PREFECT_API_DATABASE_CONNECTION_URL: "postgresql+asyncpg://…" },
      ipAddresses: ["shared_v4", "v6"],
      processGroups: { app: { count: 1, command: ["prefect", "server", "start", "--host", "0.0.0.0"], guest: { cpuKind: "shared", cpus: 1, memoryMb: 512 } } },
    });
    // PrefectServer names the check's port; fly.toml's [[http_service.checks]] has none, which checks internal_port (4200).
    const services = (byHand.services as Json[]).map((service) => ({
      ...service,
      checks: (service.checks as Json[]).map(({ port, ...check }) => {
        expect(port).toBe(service.internalPort);
        return check;
      }),
    }));
    expect(registered(fromToml, types.flyMachine, "prefect-app-0")).toEqual({ ...byHand, services, env: { ...(byHand.env as Json), PRIMARY_REGION: "ewr" } });
  });
});

describe("flyTomlToArgs: snippets of Fly's configuration reference, each mapped", () => {
  const app = (group: Json): Json => ({ processGroups: { app: group } });
  it.each<[string, string, Json]>([
    ["app and primary_region", 'app = "restless-fire-6276"\nprimary_region = "ord"', { appName: "restless-fire-6276", primaryRegion: "ord" }],
    ["kill_signal, kill_timeout in seconds", 'kill_signal = "SIGTERM"\nkill_timeout = 120', app({ killSignal: "SIGTERM", killTimeout: "120s" })],
    ["swap_size_mb (init.swap_size_mb)", "swap_size_mb = 512", app({ swapSizeMb: 512 })],
    ["[build] image", '[build]\n  image = "flyio/hellofly:latest"', { image: "flyio/hellofly:latest" }],
    ["[build] dockerfile, kept for FlyApp to refuse without an image", '[build]\n  dockerfile = "Dockerfile.test"', { builderKeys: ["[build].dockerfile"] }],
    [
      "[deploy] release_command with its vm and timeout",
      '[deploy]\n  release_command = "bin/rails db:prepare"\n  release_command_timeout = "10m"\n  [deploy.release_command_vm]\n    size = "performance-1x"\n    memory = "8gb"',
      { releaseCommand: { command: ["bin/rails", "db:prepare"], timeoutSeconds: 600, guest: { cpuKind: "performance", cpus: 1, memoryMb: 8192 } } },
    ],
    ["[deploy] strategy rolling, max_unavailable 1", '[deploy]\n  strategy = "rolling"\n  max_unavailable = 1', { processGroups: { app: { deploy: { strategy: "rolling", maxUnavailable: 1 } } } }],
    ["[deploy] bluegreen with wait_timeout", '[deploy]\n  strategy = "bluegreen"\n  wait_timeout = "10m"', { processGroups: { app: { deploy: { strategy: "bluegreen", waitTimeout: "10m" } } } }],
    ["[deploy] canary, max_unavailable 0.5", '[deploy]\n  strategy = "canary"\n  max_unavailable = 0.5', { processGroups: { app: { deploy: { strategy: "canary", maxUnavailable: 0.5 } } } }],
    ["[env]", '[env]\n  LOG_LEVEL = "debug"\n  RAILS_ENV = "production"\n  WORKERS = 4', { env: { LOG_LEVEL: "debug", RAILS_ENV: "production", WORKERS: "4" } }],
    [
      "[http_service] with concurrency (force_https defaults to false, as in fly.toml)",
      '[http_service]\n  internal_port = 8080\n  auto_stop_machines = "stop"\n  auto_start_machines = true\n  min_machines_running = 0\n  [http_service.concurrency]\n    type = "requests"\n    soft_limit = 200\n    hard_limit = 250',
      app({
        httpService: { internalPort: 8080, forceHttps: false, autostop: "stop", autostart: true, minMachinesRunning: 0, concurrency: { type: "requests", softLimit: 200, hardLimit: 250 } },
      }),
    ],
    [
      "[[http_service.checks]] with headers; auto_stop_machines = false",
      '[http_service]\n  internal_port = 8080\n  force_https = true\n  auto_stop_machines = false\n  [[http_service.checks]]\n    grace_period = "10s"\n    interval = "30s"\n    method = "GET"\n    timeout = "5s"\n    path = "/"\n    [http_service.checks.headers]\n      X-Forwarded-Proto = "https"',
      app({
        httpService: {
          internalPort: 8080,
          forceHttps: true,
          autostop: "off",
          checks: [{ type: "http", gracePeriod: "10s", interval: "30s", method: "GET", timeout: "5s", path: "/", headers: { "X-Forwarded-Proto": "https" } }],
        },
      }),
    ],
    [
      "[[services]] with ports, concurrency, tcp_checks and http_checks (times without a unit are ms)",
      [
        "[[services]]",
        '  internal_port = 8080\n  protocol = "tcp"\n  auto_stop_machines = "stop"\n  auto_start_machines = true\n  min_machines_running = 0',
        '  [[services.ports]]\n    handlers = ["http"]\n    port = 80\n    force_https = true',
        '  [[services.ports]]\n    handlers = ["tls", "http"]\n    port = 443',
        '  [services.concurrency]\n    type = "connections"\n    hard_limit = 25\n    soft_limit = 20',
        '  [[services.tcp_checks]]\n    grace_period = "1s"\n    interval = "15s"\n    timeout = "2s"',
        '  [[services.http_checks]]\n    interval = 10000\n    grace_period = "5s"\n    method = "get"\n    path = "/"\n    protocol = "http"\n    timeout = 2000\n    tls_skip_verify = false\n    [services.http_checks.headers]',
      ].join("\n"),
      app({
        services: [
          {
            protocol: "tcp",
            internalPort: 8080,
            autostop: "stop",
            autostart: true,
            minMachinesRunning: 0,
            ports: [
              { port: 80, handlers: ["http"], forceHttps: true },
              { port: 443, handlers: ["tls", "http"] },
            ],
            concurrency: { type: "connections", hardLimit: 25, softLimit: 20 },
            checks: [
              { type: "tcp", gracePeriod: "1s", interval: "15s", timeout: "2s" },
              { type: "http", interval: "10000ms", gracePeriod: "5s", method: "get", path: "/", timeout: "2000ms" },
            ],
          },
        ],
      }),
    ],
    [
      "[checks.<name>]: machine checks, the method in capitals as flyctl sends it",
      '[checks]\n  [checks.status]\n    grace_period = "30s"\n    interval = "15s"\n    method = "get"\n    path = "/path/to/status"\n    port = 5500\n    timeout = "10s"\n    type = "http"\n    [checks.status.headers]\n      Content-Type = "application/json"\n  [checks.tcp]\n    port = 1234\n    type = "tcp"',
      app({
        checks: {
          status: { type: "http", port: 5500, gracePeriod: "30s", interval: "15s", method: "GET", path: "/path/to/status", timeout: "10s", headers: { "Content-Type": "application/json" } },
          tcp: { type: "tcp", port: 1234 },
        },
      }),
    ],
    [
      "[processes] with an [http_service] for one of them (the default group is the first by name without `app`)",
      '[processes]\n  web = "bundle exec rails server -b [::] -p 8080"\n  worker = "bundle exec sidekiqswarm --queue \'mail jobs\'"\n[http_service]\n  processes = ["web"]\n  internal_port = 8080\n  force_https = true',
      {
        processGroups: {
          web: { command: ["bundle", "exec", "rails", "server", "-b", "[::]", "-p", "8080"], httpService: { internalPort: 8080, forceHttps: true } },
          worker: { command: ["bundle", "exec", "sidekiqswarm", "--queue", "mail jobs"] },
        },
      },
    ],
    [
      "[[mounts]] with initial_size, snapshots and auto-extend",
      '[[mounts]]\n  source = "data"\n  destination = "/data"\n  initial_size = "20gb"\n  snapshot_retention = 14\n  scheduled_snapshots = true\n  auto_extend_size_threshold = 80\n  auto_extend_size_increment = "1GB"\n  auto_extend_size_limit = "5GB"',
      {
        processGroups: { app: { mounts: { data: "/data" } } },
        volumes: { data: { sizeGb: 20, snapshotRetention: 14, autoBackupEnabled: true, autoExtend: { thresholdPercent: 80, incrementGb: 1, limitGb: 5 } } },
      },
    ],
    ["[[vm]] size preset", '[[vm]]\n  size = "shared-cpu-2x"', app({ guest: { cpuKind: "shared", cpus: 2, memoryMb: 512 } })],
    ["[[vm]] memory as \"2gb\" over the default shared-cpu-1x", '[[vm]]\n  memory = "2gb"', app({ guest: { cpuKind: "shared", cpus: 1, memoryMb: 2048 } })],
    ["[[vm]] memory as a number of MB", "[[vm]]\n  memory = 1024\n  cpus = 2", app({ guest: { cpuKind: "shared", cpus: 2, memoryMb: 1024 } })],
    ["[[vm]] memory as \"512mb\", memory_mb over it", '[[vm]]\n  memory = "512mb"\n  memory_mb = 768', app({ guest: { cpuKind: "shared", cpus: 1, memoryMb: 768 } })],
    [
      "[[vm]] per process group",
      '[processes]\n  app = "/start-app"\n  worker = "/start-worker"\n  other = "/start-other"\n[[vm]]\n  size = "shared-cpu-4x"\n[[vm]]\n  size = "performance-1x"\n  processes = ["worker"]',
      {
        processGroups: {
          app: { command: ["/start-app"], guest: { cpuKind: "shared", cpus: 4, memoryMb: 1024 } },
          other: { command: ["/start-other"], guest: { cpuKind: "shared", cpus: 4, memoryMb: 1024 } },
          worker: { command: ["/start-worker"], guest: { cpuKind: "performance", cpus: 1, memoryMb: 2048 } },
        },
      },
    ],
    ["[[restart]]: never is the API's no", '[[restart]]\n  policy = "never"\n  retries = 10\n  processes = ["app"]', app({ restart: { policy: "no", maxRetries: 10 } })],
    ["[metrics]", '[metrics]\n  port = 9091\n  path = "/metrics"', app({ metrics: { port: 9091, path: "/metrics" } })],
    [
      "[[statics]], from the image and from Tigris",
      '[[statics]]\n  guest_path = "/app/public"\n  url_prefix = "/public"\n[[statics]]\n  guest_path = "/app/assets"\n  url_prefix = "/assets"\n  tigris_bucket = "my-bucket"\n  index_document = "index.html"',
      app({
        statics: [
          { guestPath: "/app/public", urlPrefix: "/public" },
          { guestPath: "/app/assets", urlPrefix: "/assets", tigrisBucket: "my-bucket", indexDocument: "index.html" },
        ],
      }),
    ],
    [
      "[[files]]: raw_value base64-encoded as flyctl sends it, secret_name as is",
      '[[files]]\n  guest_path = "/path/to/hello.txt"\n  raw_value = "hello world"\n[[files]]\n  guest_path = "/path/to/secret.txt"\n  secret_name = "SUPER_SECRET"',
      app({
        files: [
          { guestPath: "/path/to/hello.txt", rawValue: Buffer.from("hello world").toString("base64") },
          { guestPath: "/path/to/secret.txt", secretName: "SUPER_SECRET" },
        ],
      }),
    ],
    ["[experimental] cmd and entrypoint", '[experimental]\n  cmd = ["path/to/command", "arg1"]\n  entrypoint = ["/bin/sh", "-c"]', app({ command: ["path/to/command", "arg1"], entrypoint: ["/bin/sh", "-c"] })],
  ])("%s", (_what, text, expected) => {
    const args = flyTomlToArgs(text);
    expect(args).toEqual({ processGroups: { app: {} }, ...expected });
  });

  it("[[files]] local_path: the file's contents, read relative to the fly.toml", () => {
    const args = readFlyToml(join(fixtures, "files.fly.toml"));
    expect(args.processGroups.app.files).toEqual([{ guestPath: "/etc/app/config.yaml", rawValue: Buffer.from("level: debug\n").toString("base64") }]);
  });
});

describe("flyTomlToArgs: keys FlyApp cannot honour are refused, naming the key and why", () => {
  it.each<[string, string, string]>([
    ["console_command", 'console_command = "/code/manage.py shell"', "fly.toml console_command: is read by `fly console` only"],
    ["an unknown strategy", '[deploy]\n  strategy = "rolling-eyes"', 'fly.toml [deploy].strategy: must be one of rolling, immediate, canary, bluegreen, got "rolling-eyes"'],
    ["max_unavailable = 0", "[deploy]\n  max_unavailable = 0", "fly.toml [deploy].max_unavailable: must be a fraction in (0, 1) or a whole number >= 1, got 0"],
    ["seed_command", '[deploy]\n  seed_command = "bin/seed"', "fly.toml [deploy].seed_command: runs once, on an app's first deploy"],
    ["a release_command with an open quote", "[deploy]\n  release_command = \"sh -c 'migrate\"", "fly.toml [deploy].release_command: must be a command line flyctl can split"],
    ["http_service.tls_options", '[http_service]\n  internal_port = 8080\n  [http_service.tls_options]\n    alpn = ["h2"]', "fly.toml [http_service].tls_options: a TLS option (alpn, versions) is not yet supported by FlyApp"],
    ["http_service.http_options", "[http_service]\n  internal_port = 8080\n  [http_service.http_options]\n    idle_timeout = 600", "fly.toml [http_service].http_options: an HTTP option (idle_timeout, response headers, h2_backend) is not yet supported by FlyApp"],
    ["machine_checks", '[http_service]\n  internal_port = 8080\n  [[http_service.machine_checks]]\n    image = "curlimages/curl"', "fly.toml [http_service].machine_checks: are flyctl's deploy-time test machines"],
    ["max_machines_running (seed 002's scaling snippet)", "[http_service]\n  internal_port = 8000\n  max_machines_running = 3", "fly.toml [http_service].max_machines_running: is not a fly.toml key (flyctl ignores it; the number of machines is FlyApp's `count`"],
    ["a port range", '[[services]]\n  internal_port = 8080\n  protocol = "tcp"\n  [[services.ports]]\n    handlers = ["tls"]\n    start_port = 8080\n    end_port = 8085', "fly.toml [[services]][0].ports[0].start_port: a port range is not yet supported by FlyApp"],
    ["proxy_proto_options", '[[services]]\n  internal_port = 5000\n  protocol = "tcp"\n  [[services.ports]]\n    handlers = ["proxy_proto"]\n    port = 5000\n    proxy_proto_options = { version = "v2" }', "fly.toml [[services]][0].ports[0].proxy_proto_options: a PROXY protocol version is not yet supported by FlyApp"],
    ["a service without ports", '[[services]]\n  internal_port = 8080\n  protocol = "tcp"', "fly.toml [[services]][0].ports: needs at least one [[services.ports]] entry"],
    ["an unknown handler", '[[services]]\n  internal_port = 8080\n  protocol = "tcp"\n  [[services.ports]]\n    handlers = ["https"]\n    port = 443', 'fly.toml [[services]][0].ports[0].handlers[0]: must be one of http, tls, pg_tls, proxy_proto, got "https"'],
    ["restart_limit", '[[services]]\n  internal_port = 8080\n  protocol = "tcp"\n  [[services.ports]]\n    port = 80\n    handlers = ["http"]\n  [[services.tcp_checks]]\n    interval = "15s"\n    restart_limit = 0', "fly.toml [[services]][0].tcp_checks[0].restart_limit: is not a fly.toml key (an Apps V1 (Nomad) setting"],
    ["an https check", '[checks.status]\n  type = "http"\n  port = 8080\n  protocol = "https"', "fly.toml [checks.status].protocol: an https health check is not yet supported by FlyApp"],
    ["a check timeout longer than its interval", '[checks.status]\n  type = "tcp"\n  port = 8080\n  interval = "10s"\n  timeout = "20s"', 'fly.toml [checks.status].timeout: must be between 1s and the interval (10s), got "20s"'],
    ["a top-level check without a port or an http_service", '[checks.status]\n  type = "tcp"', "fly.toml [checks.status].port: is required: process group 'app' has no [http_service] to take it from"],
    ["a GPU preset", '[[vm]]\n  size = "a100-40gb"', 'fly.toml [[vm]][0].size: is a GPU preset, which FlyApp\'s guest cannot carry, got "a100-40gb"'],
    ["gpu_kind", '[[vm]]\n  gpu_kind = "l40s"', "fly.toml [[vm]][0].gpu_kind: asks for a GPU"],
    ["kernel_args", '[[vm]]\n  kernel_args = ["quiet"]', "fly.toml [[vm]][0].kernel_args: sets kernel arguments"],
    ["an unknown size", '[[vm]]\n  size = "shared-cpu-3x"', 'fly.toml [[vm]][0].size: must be one of shared-cpu-1x, shared-cpu-2x'],
    ["2 performance cpus with the default memory", '[[vm]]\n  cpu_kind = "performance"\n  cpus = 2', "fly.toml [[vm]][0].memory: must be between 4096 and 16384 for 2 performance cpu(s)"],
    ["memory that is not a size", '[[vm]]\n  memory = "lots"', 'fly.toml [[vm]][0].memory: must be a size such as "2gb" or "512mb", or a number of MB, got "lots"'],
    ["two [[vm]] for every group", '[[vm]]\n  size = "shared-cpu-1x"\n[[vm]]\n  size = "shared-cpu-2x"', "fly.toml [[vm]][1]: applies to every process group, as [[vm]][0] does"],
    ["a volume under 1 GB", '[[mounts]]\n  source = "data"\n  destination = "/data"\n  initial_size = "500mb"', 'fly.toml [[mounts]][0].initial_size: must be a size of at least 1 GB, such as "10gb" or 10, got "500mb"'],
    ["snapshot_retention = 90", '[[mounts]]\n  source = "data"\n  destination = "/data"\n  snapshot_retention = 90', "fly.toml [[mounts]][0].snapshot_retention: must be between 1 and 60, got 90"],
    ["auto-extend at 40%", '[[mounts]]\n  source = "data"\n  destination = "/data"\n  auto_extend_size_threshold = 40\n  auto_extend_size_increment = "1GB"', "fly.toml [[mounts]][0].auto_extend_size_threshold: must be between 50 and 99, got 40"],
    ["a mount at /", '[[mounts]]\n  source = "data"\n  destination = "/"', "fly.toml [[mounts]][0].destination: must be an absolute path other than `/`"],
    ["a mount for a group [processes] lacks", '[[mounts]]\n  source = "data"\n  destination = "/data"\n  processes = ["disk"]', "fly.toml [[mounts]][0].processes: names process group 'disk', which [processes] does not define (groups: app)"],
    ["two mounts for one group", '[[mounts]]\n  source = "a"\n  destination = "/a"\n[[mounts]]\n  source = "b"\n  destination = "/b"', "fly.toml [[mounts]][1]: is a second mount for process group 'app'; a machine mounts one volume"],
    ["an http_service without processes beside [processes]", '[processes]\n  web = "run"\n  worker = "work"\n[http_service]\n  internal_port = 8080', "fly.toml [http_service].processes: is required when [processes] defines groups (web, worker)"],
    ["an unknown restart policy", '[[restart]]\n  policy = "sometimes"', 'fly.toml [[restart]][0].policy: must be one of always, never, on-failure, got "sometimes"'],
    ["a file without contents", '[[files]]\n  guest_path = "/etc/x"\n  local_path = ""', "fly.toml [[files]][0]: must have exactly one of raw_value, local_path or secret_name"],
    ["a local_path that is not there", '[[files]]\n  guest_path = "/etc/x"\n  local_path = "missing.yaml"', 'fly.toml [[files]][0].local_path: cannot be read'],
    ["more than 10 statics", Array.from({ length: 11 }, (_, i) => `[[statics]]\n  guest_path = "/p${i}"\n  url_prefix = "/u${i}"`).join("\n"), "fly.toml [[statics]]: may hold at most 10 entries, got 11"],
    ["metrics without a path", "[metrics]\n  port = 9091", "fly.toml [[metrics]][0].path: is required"],
    ["experimental.auto_rollback", "[experimental]\n  auto_rollback = true", "fly.toml [experimental].auto_rollback: is an Apps V1 (Nomad) setting"],
    ["experimental.exec", '[experimental]\n  exec = ["/bin/app"]', "fly.toml [experimental].exec: overrides ENTRYPOINT and CMD together"],
    ["experimental.enable_consul", "[experimental]\n  enable_consul = true", "fly.toml [experimental].enable_consul: attaches Fly's Consul or etcd"],
    ["host_dedication_id", 'host_dedication_id = "customer-id"', "fly.toml host_dedication_id: asks for dedicated hosts"],
    ["kill_signal = SIGSTOP (the API's stop_config has no SIGSTOP)", 'kill_signal = "SIGSTOP"', 'fly.toml kill_signal: must be one of SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2, SIGTERM, got "SIGSTOP"'],
    ["an env name Fly reserves", '[env]\n  FLY_REGION = "ams"', "fly.toml [env].FLY_REGION: must not start with FLY_"],
    ["an env value that is a list", '[env]\n  HOSTS = ["a", "b"]', 'fly.toml [env].HOSTS: must be a string, got ["a","b"]'],
    ["a region name", 'primary_region = "Frankfurt"', 'fly.toml primary_region: must be a Fly region (one of ams'],
    ["an unknown section", "[autoscaling]\n  max = 3", "fly.toml [autoscaling]: is not a fly.toml section"],
    ["an old alias", '[[compute]]\n  size = "shared-cpu-1x"', "fly.toml [compute]: is not a fly.toml section (write [[vm]])"],
    ["text that is not TOML", "app = ", "fly.toml: not valid TOML"],
  ])("%s", (_what, text, message) => {
    expect(parseError(text)).toContain(message);
  });

  it("a bad fly.toml: every problem named by its key, none dropped", () => {
    const text = [
      'app = "nuzantara-rag"',
      "[autoscaling]",
      "  max_machines = 3",
      "[http_service]",
      "  internal_port = 8000",
      "  [[http_service.checks]]",
      '    interval = "30000s"',
      '    timeout = "5000s"',
      "[[vm]]",
      '  memory = "300mb"',
    ].join("\n");
    expect(parseError(text).split("\n")).toEqual([
      'fly.toml [[http_service.checks]][0].interval: must be between 1s and 1h, got "30000s"',
      'fly.toml [[http_service.checks]][0].timeout: must be between 1s and the interval (1h), got "5000s"',
      "fly.toml [[vm]][0].memory: must be a multiple of 256, got 300",
      "fly.toml [autoscaling]: is not a fly.toml section",
    ]);
  });

  it("names the file it read", () => {
    expect(() => readFlyToml(join(fixtures, "bad.fly.toml"))).toThrow(`${join(fixtures, "bad.fly.toml")} [[vm]][0].memory: must be a multiple of 256, got 300`);
  });
});

describe("FlyApp with a fly.toml: the program's args over the file's", () => {
  const base: FlyAppFromTomlArgs = { flyTomlPath: nuzantaraToml, orgSlug: "personal", image: "registry.fly.io/nuzantara-rag:deployment-2" };

  it("wins field by field: app name and region (PRIMARY_REGION follows), group fields, httpService, env and volumes by name", async () => {
    const built = await buildFlyApp("staging", {
      ...base,
      appName: "nuzantara-rag-staging",
      primaryRegion: "fra",
      env: { NODE_ENV: "staging", LOG_LEVEL: "debug" },
      volumes: { chroma_data_complete: { sizeGb: 10 } },
      processGroups: {
        app: { count: 2, httpService: { minMachinesRunning: 0, autostop: "stop" } },
        worker: { command: ["python", "-m", "worker"] },
      },
    });
    expect(registered(built, types.flyApp, "staging")).toMatchObject({ name: "nuzantara-rag-staging" });
    const machine = registered(built, types.flyMachine, "staging-app-1");
    expect(machine).toMatchObject({ region: "fra", guest: { cpuKind: "shared", cpus: 2, memoryMb: 2048 }, stop: { signal: "SIGTERM", timeout: "30s" } });
    expect(machine.env).toEqual({
      CHROMA_DB_PATH: "/data/chroma_db_FULL_deploy",
      EMBEDDING_DIMENSIONS: "1536",
      EMBEDDING_MODEL: "text-embedding-3-small",
      EMBEDDING_PROVIDER: "openai",
      NODE_ENV: "staging",
      PORT: "8000",
      PRIMARY_REGION: "fra",
      LOG_LEVEL: "debug",
    });
    const [service] = machine.services as Json[];
    expect(service).toMatchObject({ internalPort: 8000, autostop: "stop", minMachinesRunning: 0, autostart: true });
    expect(service.checks).toEqual([{ type: "http", interval: "30s", timeout: "5s", gracePeriod: "1m0s", method: "GET", path: "/health" }]);
    expect(registered(built, flyVolume, "staging-chroma_data_complete-app-1")).toMatchObject({ name: "chroma_data_complete", region: "fra", sizeGb: 10 });
    // A group the file lacks is added as the program gives it.
    const worker = registered(built, types.flyMachine, "staging-worker-0");
    expect(worker).toMatchObject({ init: { cmd: ["python", "-m", "worker"] }, processGroup: "worker" });
    expect(worker.stop).toBeUndefined();
  });

  it("reads the text as well as a path", async () => {
    const text = '[http_service]\n  internal_port = 8080\n[[vm]]\n  size = "shared-cpu-2x"\n';
    const built = await buildFlyApp("web", { flyTomlText: text, orgSlug: "personal", appName: "web-app", primaryRegion: "ams", image: "registry.fly.io/web-app:1" });
    const machine = registered(built, types.flyMachine, "web-app-0");
    expect(machine).toMatchObject({ region: "ams", guest: { cpuKind: "shared", cpus: 2, memoryMb: 512 } });
    // No primary_region in the file, so no PRIMARY_REGION either (fly deploy sets it only from the file).
    expect(machine.env ?? {}).toEqual({});
  });

  it.each<[string, Partial<FlyAppFromTomlArgs>, string]>([
    ["no image beside [build] dockerfile", { image: undefined }, "FlyApp 'rag': " + nuzantaraToml + " [build].dockerfile: needs `fly deploy`'s builder, which FlyApp does not run; build and push the image in CI and pass it as `image`"],
    ["both a path and a text", { flyTomlText: 'app = "x"' }, "FlyApp 'rag': give exactly one of `flyTomlPath` or `flyTomlText`"],
    ["a bad file", { flyTomlPath: join(fixtures, "bad.fly.toml") }, `FlyApp 'rag': ${join(fixtures, "bad.fly.toml")} [[vm]][0].memory: must be a multiple of 256, got 300`],
    ["no region anywhere", { flyTomlPath: undefined, flyTomlText: "[http_service]\n  internal_port = 8080", appName: "web-app" }, "FlyApp 'rag': `primaryRegion` is required: fly.toml has no `primary_region`"],
    ["an http service override for a group the file has no [http_service] for", { processGroups: { worker: { httpService: { minMachinesRunning: 1 } } } }, "FlyApp 'rag': processGroups.worker.httpService.internalPort is required"],
  ])("refuses %s before creating anything", async (_what, change, message) => {
    await mocks.install();
    mocks.registered.clear();
    FlyApp ??= (await import("../../components/fly-app")).FlyApp;
    expect(() => new FlyApp("rag", { ...base, ...change } as FlyAppFromTomlArgs)).toThrow(message);
    expect(mocks.registered.size).toBe(0);
  });

  it("keeps the file's settings a program does not override, as the plain FlyTomlArgs", () => {
    const args: FlyTomlArgs = readFlyToml(prefectToml);
    expect(args).toEqual({
      appName: "prefect",
      primaryRegion: "ewr",
      env: { PREFECT_SERVER_API_HOST: "0.0.0.0", PREFECT_SERVER_API_PORT: "4200" },
      processGroups: {
        app: {
          guest: { cpuKind: "shared", cpus: 1, memoryMb: 256 },
          httpService: {
            internalPort: 4200,
            forceHttps: true,
            autostop: "off",
            autostart: true,
            minMachinesRunning: 1,
            checks: [{ type: "http", interval: "30s", timeout: "5s", gracePeriod: "60s", method: "GET", path: "/api/health" }],
          },
        },
      },
      builderKeys: ["[build].dockerfile"],
    });
  });
});
