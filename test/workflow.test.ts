import { describe, expect, it } from "vitest";
import { allJobs, stepRunning, steps, workflow } from "./workflows/load";

/**
 * The platform's delivery workflows, as the README describes them; test/workflows/ holds the detailed checks
 * (actionlint, pinned actions and their inputs, where credentials go, concurrency, the reaper, ship-image).
 */
const ci = workflow("ci.yml");
const deploy = workflow("deploy.yml");
const diff = workflow("preview-diff.yml");

describe("the platform's GitHub workflows", () => {
  it("preview staging and production on every pull request and comment the diff", () => {
    expect(diff.on).toHaveProperty("pull_request");
    const job = diff.jobs.diff;
    expect(job.strategy?.matrix).toMatchObject({ stack: ["staging", "production"] });
    expect(stepRunning(job, /pulumi preview/).run).toContain('pulumi preview --stack "$STACK" --diff');
    expect(stepRunning(job, /pr-comment\.ts diff/).env).toMatchObject({ STACK: "${{ matrix.stack }}" });
  });

  it("run the README's test command on every push and pull request, and before any deploy", () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["push", "pull_request"]));
    expect(steps(ci.jobs.test).some((step) => step.run === "npm ci && npm test")).toBe(true);
    expect(deploy.jobs.test.uses).toBe("./.github/workflows/ci.yml");
    expect(deploy.jobs.staging.needs).toBe("test");
    expect(deploy.jobs.production.needs).toBe("test");
  });

  it("hand the providers their credentials from secrets, never inline, and only where Pulumi runs", () => {
    const names = ["PULUMI_ACCESS_TOKEN", "FLY_API_TOKEN", "NEON_API_KEY", "CLOUDFLARE_API_TOKEN", "GITHUB_TOKEN"];
    const pulumiSteps = allJobs().flatMap(({ job }) => steps(job).filter((step) => /pulumi (up|preview|destroy)/.test(step.run ?? "")));
    expect(pulumiSteps.length).toBe(7);
    for (const step of pulumiSteps) {
      for (const name of names) expect(step.env?.[name], `${step.name} ${name}`).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    }
    expect(JSON.stringify(ci)).not.toContain("secrets.");
  });
});
