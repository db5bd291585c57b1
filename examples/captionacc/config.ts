/**
 * captionacc's stack config (`captionacc:*`): seed 004's standalone Prefect server, the orchestrator that becomes
 * its client and the repository whose Actions secrets point at it. Defaults here are captionacc's own values
 * (the guide's `ewr`, one machine that never stops); the library's defaults (image and memory per Prefect major,
 * the `/api/health` check, port 4200) are left to PrefectServer unless the stack sets them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { patterns, readProgramConfig, type ProgramReader } from "../../config-kit";
import type { Autostop, MachineGuest } from "../../dynamic-providers/fly/machine-types";

/** Prefect 3: a public server behind a generated auth string. See the README's "Which Prefect". */
export const defaultPrefectVersion = 3;

export type PrefectAccess = "auth" | "private";

/** Prefect 2 servers have no auth string, so Flycast (private network only) is the one way to keep them closed. */
function defaultAccess(version: number): PrefectAccess {
  return version === 2 ? "private" : "auth";
}

export interface CaptionaccConfig {
  fly: { org: string };
  prefect: {
    /** The Fly app of seed 004 step 1 (`app = "prefect"`). */
    appName: string;
    region: string;
    version: 2 | 3;
    access: PrefectAccess;
    /** Set only to pin an image; PrefectServer picks the major's own otherwise. */
    image?: string;
    /** Set only to size the VM; PrefectServer picks 256 MB (Prefect 2) or 512 MB (Prefect 3) otherwise. */
    guest?: MachineGuest;
    autostop: Autostop;
    minMachinesRunning: number;
  };
  orchestrator: {
    /** The orchestrator's Fly app, deployed by its own workflow; only its PREFECT_* secrets are set here. */
    appName: string;
    /** `false` is the guide's rollback: its PREFECT_* secrets are unset and it falls back to ephemeral mode. */
    connect: boolean;
  };
  github: {
    /** `owner/name` of the repository whose Actions secrets step 6 sets. */
    repository: string;
    owner: string;
    name: string;
  };
  /** Seed 004 step 2: the team's Supabase Postgres, outside the platform. */
  supabaseDatabaseUrl: pulumi.Output<string>;
}

export function schema(read: ProgramReader): CaptionaccConfig {
  const prefect = read.section("prefect");
  const version = prefect.integer("version", { default: defaultPrefectVersion, min: 2, max: 3, example: String(defaultPrefectVersion) }) as 2 | 3;
  const access = prefect.oneOf<PrefectAccess>("access", ["auth", "private"], { default: defaultAccess(version) });
  if (version === 2 && access === "auth") {
    prefect.problem("access", 'must be "private" with Prefect 2 (a Prefect 2 server has no auth string to check; use version 3 for "auth")', access);
  }
  const repository = read.text("github.repository", {
    pattern: patterns.githubRepository,
    rule: "a GitHub repository as `owner/name`",
    example: "<owner>/<repository>",
  });
  const [owner = "", name = ""] = repository.split("/");
  return {
    fly: { org: read.text("fly.org", { default: "personal", pattern: patterns.flyOrg, rule: "a Fly organization slug", example: "personal" }) },
    prefect: {
      appName: prefect.flyAppName("appName", { example: "prefect" }),
      region: prefect.flyRegion("region", { default: "ewr" }),
      version,
      access,
      image: prefect.optional("image", (key) => prefect.image(key, { example: "prefecthq/prefect:3-python3.12" })),
      guest: prefect.optional("guest", (key) => prefect.flyGuest(key)),
      autostop: prefect.oneOf<Autostop>("autostop", ["off", "stop", "suspend"], { default: "off" }),
      minMachinesRunning: prefect.integer("minMachinesRunning", { default: 1, min: 0, example: "1" }),
    },
    orchestrator: {
      appName: read.flyAppName("orchestrator.appName", { example: "captionacc-orchestrator" }),
      connect: read.boolean("orchestrator.connect", { default: true }),
    },
    github: { repository, owner, name },
    supabaseDatabaseUrl: read.secret("supabaseDatabaseUrl", {
      what: "the Supabase Postgres URL Prefect keeps its state in (Supabase dashboard > Connect > Direct connection)",
      example: "postgresql://postgres:<password>@db.<project-ref>.supabase.co:5432/prefect",
    }),
  };
}

export const loadConfig = (): CaptionaccConfig => readProgramConfig("captionacc", schema);
