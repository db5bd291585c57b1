import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string;
  strategy?: { matrix?: { stack?: string[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(path.join(__dirname, "..", ".github", "workflows", "pulumi.yml"), "utf8")) as Workflow;
const pulumiStep = (job: Job): Step | undefined => job.steps.find((step) => step.uses?.startsWith("pulumi/actions@"));

describe("the platform's GitHub workflow", () => {
  it("previews both stacks on every pull request and comments the diff", () => {
    expect(Object.keys(workflow.on)).toContain("pull_request");
    const preview = workflow.jobs.preview;
    expect(preview.if).toBe("github.event_name == 'pull_request'");
    expect(preview.strategy?.matrix?.stack).toEqual(["staging", "production"]);
    expect(pulumiStep(preview)?.with).toMatchObject({ command: "preview", "comment-on-pr": true, "stack-name": "${{ matrix.stack }}" });
  });

  it("runs the README's test command before any preview or deploy", () => {
    expect(workflow.jobs.test.steps.some((step) => step.run === "npm ci && npm test")).toBe(true);
    expect(workflow.jobs.preview.needs).toBe("test");
    expect(workflow.jobs.up.needs).toBe("test");
  });

  it("hands the providers their credentials from repository secrets, never inline", () => {
    for (const name of ["PULUMI_ACCESS_TOKEN", "FLY_API_TOKEN", "NEON_API_KEY", "CLOUDFLARE_API_TOKEN", "GITHUB_TOKEN"]) {
      expect(workflow.env[name], name).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    }
  });
});
