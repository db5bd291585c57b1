import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError, parseProgramConfig, readProgramConfig, type ProgramReader, type RawProgramConfig } from "../config-kit";

type Json = Record<string, unknown>;

/** A toy program's schema: one of every reader a Fly/Neon program uses. */
function toySchema(read: ProgramReader) {
  return {
    appName: read.flyAppName("app.name", { example: "toy-app" }),
    region: read.flyRegion("app.region", { default: "ams" }),
    image: read.image("app.image", { default: "registry.fly.io/toy-app:latest" }),
    memoryMb: read.integer("app.memoryMb", { min: 256, max: 4096, default: 512 }),
    guest: read.optional("app.guest", (key) => read.flyGuest(key)),
    checks: read.healthChecks("app.checks", { default: [] }),
    env: read.env("app.env", { default: { MODE: "toy" }, reserved: { names: ["DATABASE_URL"], rule: "is set by the program" } }),
    ratio: read.number("ratio", { default: 0.5, min: 0, max: 1 }),
    debug: read.boolean("debug", { default: false }),
    tier: read.oneOf("tier", ["free", "paid"] as const),
    hosts: read.list("hosts", { default: [], pattern: /^[a-z.]+$/, rule: "a lowercase host name", example: "toy.example.com" }),
    labels: read.record("labels", { default: {} }),
    workers: read.listOf("workers", (worker) => ({ name: worker.text("name"), count: worker.integer("count", { default: 1, min: 1 }) }), { default: [] }),
    secretKey: read.secret("secretKey", { what: "the app's SECRET_KEY" }),
    sentryDsn: read.optionalSecret("sentryDsn", { what: "the Sentry DSN" }),
  };
}

const good: Json = { app: { name: "toy-app" }, tier: "free" };
const secrets = { secretKey: "toy-secret-key-1a2b" };

function problemsOf(raw: RawProgramConfig, schema: (read: ProgramReader) => unknown = toySchema): readonly string[] {
  try {
    parseProgramConfig("toy", raw, schema);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("the config was accepted");
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("a valid config", () => {
  it("comes back typed, with the program's defaults filled in", () => {
    const config = parseProgramConfig("toy", { values: good, secrets }, toySchema);
    expect({ ...config, secretKey: undefined }).toEqual({
      appName: "toy-app",
      region: "ams",
      image: "registry.fly.io/toy-app:latest",
      memoryMb: 512,
      guest: undefined,
      checks: [],
      env: { MODE: "toy" },
      ratio: 0.5,
      debug: false,
      tier: "free",
      hosts: [],
      labels: {},
      workers: [],
      secretKey: undefined,
      sentryDsn: undefined,
    });
  });

  it("takes numbers and flags given as text, and the stack's env over the defaults", () => {
    const config = parseProgramConfig(
      "toy",
      {
        values: {
          ...good,
          app: { name: "toy-app", memoryMb: "1024", guest: { cpuKind: "shared", cpus: "2", memoryMb: 4096 }, env: { PORT: 8000, MODE: "real" } },
          ratio: "0.25",
          debug: "true",
          workers: [{ name: "mail" }, { name: "pdf", count: 3 }],
        },
        secrets,
      },
      toySchema,
    );
    expect([config.memoryMb, config.ratio, config.debug]).toEqual([1024, 0.25, true]);
    expect(config.guest).toEqual({ cpuKind: "shared", cpus: 2, memoryMb: 4096 });
    expect(config.env).toEqual({ MODE: "real", PORT: "8000" });
    expect(config.workers).toEqual([
      { name: "mail", count: 1 },
      { name: "pdf", count: 3 },
    ]);
  });
});

describe("secrets", () => {
  it("stay secret Outputs", async () => {
    const config = parseProgramConfig("toy", { values: good, secrets: { ...secrets, sentryDsn: "https://key@sentry.example/1" } }, toySchema);
    expect(await pulumi.isSecret(config.secretKey)).toBe(true);
    expect(await valueOf(config.secretKey)).toBe("toy-secret-key-1a2b");
    expect(config.sentryDsn && (await pulumi.isSecret(config.sentryDsn))).toBe(true);
  });

  it("are refused in plain text without printing the value", () => {
    const problems = problemsOf({ values: { ...good, secretKey: "leaked-in-plain-text" } });
    expect(problems).toEqual([
      "toy:secretKey is a secret and must be set with `--secret`, not in plain text; set it with `pulumi config set --secret toy:secretKey <value>`",
    ]);
  });
});

describe("a config with several wrong keys", () => {
  const wrong: Json = {
    app: {
      name: "Toy_App",
      region: "xyz",
      memoryMb: 5000,
      guest: { cpuKind: "shared", cpus: 1, memoryMb: 300 },
      checks: [{ interval: "30000s" }],
      env: { "1X": "y", DATABASE_URL: "postgres://x" },
      image: "Registry/toy app",
    },
    ratio: 2,
    debug: "yes",
    hosts: ["Bad Host"],
    workers: [{ count: 0 }],
  };

  it("fails once, listing each problem with its key, rule, value and fix command", () => {
    let error: unknown;
    try {
      parseProgramConfig("toy", { values: wrong }, toySchema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toEqual([
      "toy:app.name must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit, got \"Toy_App\"; set it with `pulumi config set --path 'toy:app.name' toy-app`",
      "toy:app.region must be one of ams, arn, atl, bog, bom, bos, cdg, den, dfw, ewr, eze, fra, gdl, gig, gru, hkg, iad, jnb, lax, lhr, mad, mia, nrt, ord, otp, phx, qro, scl, sea, sin, sjc, syd, waw, yul, yyz, got \"xyz\"; set it with `pulumi config set --path 'toy:app.region' ams`",
      "toy:app.image must be a container image reference, `[registry/]name[:tag][@digest]` such as `registry.fly.io/my-app:latest`, got \"Registry/toy app\"; set it with `pulumi config set --path 'toy:app.image' <value>`",
      "toy:app.memoryMb must be between 256 and 4096, got 5000; set it with `pulumi config set --path 'toy:app.memoryMb' <value>`",
      "toy:app.guest.memoryMb must be a multiple of 256, got 300; set it with `pulumi config set --path 'toy:app.guest.memoryMb' <value>`",
      "toy:app.checks[0].interval must be between 1s and 1h, got \"30000s\"; set it with `pulumi config set --path 'toy:app.checks[0].interval' <value>`",
      "toy:app.env.1X must be named with letters, digits and underscores, not starting with a digit; set it with `pulumi config set --path 'toy:app.env.1X' <value>`",
      "toy:app.env.DATABASE_URL is set by the program; remove it with `pulumi config rm --path 'toy:app.env.DATABASE_URL'`",
      "toy:ratio must be between 0 and 1, got 2; set it with `pulumi config set toy:ratio <value>`",
      "toy:debug must be true or false, got \"yes\"; set it with `pulumi config set toy:debug true`",
      "toy:tier is required (one of free, paid); set it with `pulumi config set toy:tier free`",
      "toy:hosts[0] must be a lowercase host name, got \"Bad Host\"; set it with `pulumi config set --path 'toy:hosts[0]' toy.example.com`",
      "toy:workers[0].name is required; set it with `pulumi config set --path 'toy:workers[0].name' <value>`",
      "toy:workers[0].count must be at least 1, got 0; set it with `pulumi config set --path 'toy:workers[0].count' <value>`",
      "toy:secretKey is required: the app's SECRET_KEY; set it with `pulumi config set --secret toy:secretKey <value>`",
    ]);
    expect(message).toContain(`stack config has ${problems.length} problem(s)`);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it("reports a guest missing a field and a required flag, number and list", () => {
    const schema = (read: ProgramReader) => ({
      guest: read.flyGuest("guest"),
      worker: read.flyGuest("worker"),
      on: read.boolean("on"),
      size: read.integer("size", { min: 1, max: 10 }),
      names: read.list("names"),
    });
    expect(problemsOf({ values: { worker: { cpus: 1, memoryMb: 256 } } }, schema).map((problem) => problem.split(";")[0])).toEqual([
      "toy:guest is required (an object with cpuKind, cpus, memoryMb)",
      "toy:worker.cpuKind is required",
      "toy:on is required (true or false)",
      "toy:size is required (a whole number between 1 and 10)",
      "toy:names is required (a list)",
    ]);
  });
});

describe("keys nobody reads", () => {
  it("are named, by name only, with the command that removes them", () => {
    const problems = problemsOf({
      values: { ...good, app: { name: "toy-app", nmae: "typo" }, tpyo: "sk-live-value", workers: [{ name: "mail", cuont: 2 }] },
      secrets,
    });
    expect(problems).toEqual([
      "toy:app.nmae is not a setting this program reads (known: name, region, image, memoryMb, guest, checks, env); remove it with `pulumi config rm --path 'toy:app.nmae'`",
      "toy:tpyo is not a key this program reads (known: app, ratio, debug, tier, hosts, labels, workers, secretKey, sentryDsn); remove it with `pulumi config rm toy:tpyo`",
      "toy:workers[0].cuont is not a setting this program reads (known: name, count); remove it with `pulumi config rm --path 'toy:workers[0].cuont'`",
    ]);
    expect(problems.join("\n")).not.toContain("sk-live-value");
  });

  it("include a secret set under an unknown name, and a setting inside a guest", () => {
    const problems = problemsOf({ values: { ...good, app: { name: "toy-app", guest: { cpuKind: "shared", cpus: 1, memoryMb: 256, gpu: 1 } } }, secrets: { ...secrets, secretKy: "x" } });
    expect(problems.map((problem) => problem.split(" ")[0])).toEqual(["toy:app.guest.gpu", "toy:secretKy"]);
  });

  it("spare the keys a program lists as known although this stack did not read them", () => {
    const schema = (read: ProgramReader) => ({ mode: read.oneOf("mode", ["a", "b"] as const), server: read.optional("server", (key) => (read.text("mode") === "b" ? read.text(key) : undefined)) });
    expect(() => parseProgramConfig("toy", { values: { mode: "a", other: "x" } }, schema, { knownKeys: ["other"] })).not.toThrow();
    expect(problemsOf({ values: { mode: "a", other: "x" } }, schema)).toEqual([expect.stringMatching(/^toy:other is not a key this program reads \(known: mode, server\)/)]);
  });

  it("a section set to text is reported once, naming the settings it should hold", () => {
    const problems = problemsOf({ values: { ...good, app: "toy-app" }, secrets });
    expect(problems).toEqual([expect.stringMatching(/^toy:app must be an object with the settings name, region, image, memoryMb, guest, checks, env, got "toy-app"; set it with/)]);
  });
});

describe("readProgramConfig", () => {
  /** The engine hands the program every `project:key` as text (objects as JSON) and names the secret ones. */
  function setStackConfig(values: Json, secretValues: Record<string, string>): void {
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) all[`toy:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    for (const [key, value] of Object.entries(secretValues)) all[`toy:${key}`] = value;
    pulumi.runtime.setAllConfig({ ...all, "other:key": "not ours" }, Object.keys(secretValues).map((key) => `toy:${key}`));
  }

  it("reads the running stack's namespace: sections as objects, top-level numbers as text, secrets as secrets", async () => {
    setStackConfig({ ...good, ratio: "0.75", debug: "true" }, secrets);
    const config = readProgramConfig("toy", toySchema);
    expect([config.appName, config.ratio, config.debug, config.tier]).toEqual(["toy-app", 0.75, true, "free"]);
    expect(await pulumi.isSecret(config.secretKey)).toBe(true);
    expect(await valueOf(config.secretKey)).toBe("toy-secret-key-1a2b");
  });

  it("throws one ConfigError for the stack, naming unknown keys but not their values", () => {
    setStackConfig({ app: { name: "Toy_App" }, tpyo: "sk-live-value" }, {});
    let error: unknown;
    try {
      readProgramConfig("toy", toySchema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((problem) => problem.split(" ")[0])).toEqual(["toy:app.name", "toy:tier", "toy:secretKey", "toy:tpyo"]);
    expect(problems.join("\n")).not.toContain("sk-live-value");
  });
});
