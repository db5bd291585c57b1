/**
 * Seed 000's `local` stack under the mock runtime (no emulator): what Pulumi.local.yaml turns off
 * (`cloudflare.enabled: false`, `github.enabled: false`) and what config refuses with them off.
 */
import { describe, expect, it } from "vitest";
import { expectConfigError, resource, resourcesOf, runProgram, type ProgramRunOptions } from "../programs/program-harness";
import { types } from "../programs/provider-mocks";

const secrets = Object.fromEntries(
  ["anthropicApiKey", "openaiApiKey", "wpAppPassword", "ncbiApiKey", "braveApiKey", "r2AccessKeyId", "r2SecretAccessKey"].map((key) => [key, `local-${key}`]),
);
const local = (overrides: ProgramRunOptions["overrides"] = {}): ProgramRunOptions => ({ dir: ".", stack: "local", secrets, overrides });

describe("the local stack", () => {
  it("makes nothing in Cloudflare or GitHub, owns its Neon project and protects nothing", async () => {
    const run = await runProgram(local());
    const official = run.registrations.filter((r) => /^(cloudflare|github):/.test(r.type)).map((r) => `${r.type} ${r.name}`);
    expect(official).toEqual([]);
    expect(run.calls.map((call) => call.token)).toEqual([]);
    // No GitHub: no deploy token for it to hold.
    expect(resourcesOf(run, types.flyDeployToken)).toEqual([]);
    // No Cloudflare: the dashboard is private, Flycast only.
    expect(resourcesOf(run, types.flyIpAddress).map((r) => [r.name, r.inputs.type])).toEqual([["dashboard-ip-private_v6", "private_v6"]]);
    expect(resourcesOf(run, types.neonProject).map((r) => r.inputs.name)).toEqual(["naluma_content_local"]);
    expect(resourcesOf(run, types.stackReference)).toEqual([]);
    expect(run.registrations.filter((r) => r.protect).map((r) => r.name)).toEqual([]);
    expect(resource(run, types.flyApp, "worker").inputs.name).toBe("local-naluma-content");
    // platform:fly.smokeChecks false: no 10 s watch after each start, on every app's machines (staging and production
    // keep flyctl's 10 s: test/stacks/checklist.test.ts).
    const machines = resourcesOf(run, types.flyMachine);
    expect(machines.map((r) => r.name).sort()).toEqual(["dashboard-app-0", "worker-app-0"]);
    expect(machines.map((r) => (r.inputs.timeouts as { smokeSeconds?: number } | undefined)?.smokeSeconds)).toEqual([0, 0]);
  });

  it.each([
    ["dashboard.access", { dashboard: { appName: "local-naluma-dashboard", access: { allowedEmails: ["a@example.com"] } } }, "cloudflare.enabled is false"],
    ["dashboard.hostname", { dashboard: { appName: "local-naluma-dashboard", hostname: "dashboard.naluma.space" } }, "cloudflare.enabled is false"],
    ["docs.enabled", { docs: { enabled: true } }, "cloudflare.enabled or platform:github.enabled is false"],
    ["github.repository", { github: { enabled: false, repository: "naluma/content" } }, "github.enabled is false"],
  ])("refuses %s while Cloudflare or GitHub is off", async (key, overrides, reason) => {
    const problem = await expectConfigError(runProgram(local(overrides)), key);
    expect(problem).toContain(reason);
  });

  it("turning GitHub back on asks for the repository", async () => {
    const problem = await expectConfigError(runProgram(local({ github: { enabled: true } })), "github.repository");
    expect(problem).toContain("owner/name");
  });
});
