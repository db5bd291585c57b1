/**
 * captionacc: seed 004, "Prefect Server Deployment". A standalone Prefect server as its own Fly app on the team's
 * Supabase Postgres, the orchestrator and the repository's Actions pointed at it. The guide's steps 7 (redeploy
 * the orchestrator), 8 (verify) and 9 (Better Stack) stay with the user: see README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { defaultPrefectPort, FlyAppSecrets, PrefectServer } from "../../components";
import { loadConfig } from "./config";
import { databaseName, prefectDatabaseUrl } from "./database-url";

const config = loadConfig();
const { prefect: server } = config;
const isPublic = server.access === "auth";

// Step 2: the team's existing Supabase Postgres, in the URL form Prefect's asyncpg engine takes.
const databaseUrl = config.supabaseDatabaseUrl.apply((url) => {
  if (databaseName(url) === "postgres") {
    pulumi.log.warn(
      "captionacc:supabaseDatabaseUrl names the database `postgres`: Prefect will create its tables (and an alembic_version table) " +
        "beside the app's. A database of its own (`create database prefect;` in Supabase's SQL editor) keeps them apart.",
    );
  }
  return prefectDatabaseUrl(url);
});

// Steps 1 and 3: the `prefect` app (fly.toml, Dockerfile, `fly deploy`). Its image runs as-is: the Dockerfile
// only set the env and the command, which the machine config carries. Step 4's "API key" is Prefect 3's auth
// string, generated here; with Prefect 2 there is none and the server lives on Flycast only.
const prefect = new PrefectServer("prefect", {
  mode: "standalone",
  version: server.version,
  access: server.access,
  databaseUrl,
  app: {
    appName: server.appName,
    orgSlug: config.fly.org,
    primaryRegion: server.region,
    image: server.image,
    group: {
      guest: server.guest,
      httpService: { internalPort: defaultPrefectPort, autostop: server.autostop, minMachinesRunning: server.minMachinesRunning },
    },
  },
});

/** What a client needs: PREFECT_API_URL and, with Prefect 3, PREFECT_API_AUTH_STRING. */
const clientSecrets = pulumi.all([prefect.env, prefect.secretEnv]).apply(([env, secretEnv]) => ({ ...env, ...secretEnv }));

// Step 5: the orchestrator's secrets, on an app deployed elsewhere. Only these names are set (and unset again
// by `orchestrator.connect: false`, the guide's rollback); the app and its machines are never touched.
const orchestrator = config.orchestrator.connect
  ? new FlyAppSecrets("orchestrator-prefect", { appName: config.orchestrator.appName, secrets: clientSecrets })
  : undefined;

// Step 6: the repository's Actions secrets, the same names and values as the orchestrator's.
const githubProvider = new github.Provider("github", { owner: config.github.owner });
const githubSecretNames = isPublic ? ["PREFECT_API_URL", "PREFECT_API_AUTH_STRING"] : ["PREFECT_API_URL"];
for (const secretName of githubSecretNames) {
  new github.ActionsSecret(
    `github-${secretName.toLowerCase().replace(/_/g, "-")}`,
    { repository: config.github.name, secretName, value: pulumi.secret(clientSecrets.apply((secrets) => secrets[secretName])) },
    { provider: githubProvider },
  );
}

/** The Prefect server's Fly app, e.g. `prefect`. */
export const prefectAppName = prefect.app?.appName;
export const prefectVersion = server.version;
/** `auth` (public, behind the auth string) or `private` (Flycast only). */
export const prefectAccess = server.access;
/** PREFECT_API_URL: `https://<app>.fly.dev/api` (auth) or `http://<app>.flycast/api` (private). */
export const prefectApiUrl = prefect.apiUrl;
/** The UI, public servers only; a private one is reached with `fly proxy 4200 -a <app>` at http://localhost:4200. */
export const prefectUiUrl = isPublic ? prefect.app?.url : undefined;
/** Step 9: what Better Stack checks (Prefect answers it without credentials). Public servers only. */
export const prefectHealthUrl = isPublic ? pulumi.interpolate`${prefect.apiUrl}/health` : undefined;
/** `admin:<generated>`: PREFECT_API_AUTH_STRING for clients, and the UI's login (secret). Prefect 3 with auth only. */
export const prefectAuthString = prefect.authString ? pulumi.secret(prefect.authString) : undefined;
/** The orchestrator app the secrets are set on. */
export const orchestratorAppName = config.orchestrator.appName;
/** The secret names set on the orchestrator; empty after a rollback (`orchestrator.connect: false`). */
export const orchestratorSecretNames = orchestrator ? orchestrator.names : pulumi.output<string[]>([]);
/** The repository's Actions secret names. */
export const githubRepositorySecretNames = githubSecretNames;
