import { describe, expect, it } from "vitest";
import { concurrencyOf, environmentName, programs, stepRunning, steps, workflow, type Job, type WorkflowInput } from "./load";

const deploy = workflow("deploy.yml");
const diff = workflow("preview-diff.yml");
const previews = workflow("preview-environment.yml");
const reaper = workflow("reap-previews.yml");
const ship = workflow("ship-image.yml");
const ci = workflow("ci.yml");

/** The group every run that changes one stack joins, in every workflow: `pulumi-<program dir>-<stack>`. */
function expectStackGroup(job: Job, program: string, stack: string): void {
  expect(concurrencyOf(job)).toEqual({ group: `pulumi-${program}-${stack}`, "cancel-in-progress": false });
}

describe("ci.yml", () => {
  it("tests every push and pull request, and is callable by deploy.yml", () => {
    expect(Object.keys(ci.on)).toEqual(["push", "pull_request", "workflow_call"]);
    expect(ci.on.push).toBeNull();
    expect(steps(ci.jobs.test).map((step) => step.run).filter(Boolean)).toEqual([
      "ls /usr/lib/postgresql/*/bin/initdb || (sudo apt-get update && sudo apt-get install -y postgresql)",
      "npm ci && npm test",
      "npm run typecheck && npm run lint",
    ]);
  });
});

describe("deploy.yml", () => {
  it("deploys staging on a push to main and production by dispatch only", () => {
    expect(deploy.on.push).toEqual({ branches: ["main"] });
    const dispatch = deploy.on.workflow_dispatch as { inputs: Record<string, WorkflowInput> };
    expect(dispatch.inputs.program).toMatchObject({ type: "choice", options: programs, required: true });
    expect(deploy.jobs.staging.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
  });

  it("production: environment production, main only, after the tests, one run per program, never cancelled", () => {
    const production = deploy.jobs.production;
    expect(environmentName(production)).toBe("production");
    expect(production.if).toBe("github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'");
    expect(production.needs).toBe("test");
    expect(concurrencyOf(production)).toEqual({ group: "pulumi-${{ inputs.program }}-production", "cancel-in-progress": false });
    const up = stepRunning(production, /pulumi up/);
    expect(up["working-directory"]).toBe("${{ inputs.program }}");
    expect(up.env?.STACK).toBe("production");
    expect(up.run).toContain('pulumi stack select "$STACK"');
    expect(up.run).not.toContain("--create");
    expect(up.run).toContain('pulumi_retry_locked "$RUNNER_TEMP/up.log" pulumi up --stack "$STACK" --yes --non-interactive');
  });

  it("refuses (fails) a production dispatch from any other ref", () => {
    const refuse = deploy.jobs.refuse;
    expect(refuse.if).toBe("github.event_name == 'workflow_dispatch' && github.ref != 'refs/heads/main'");
    expect(stepRunning(refuse, /exit 1/).run).toContain("::error::Production deploys only from main");
  });

  it("staging: environment staging, each program's staging stack after the tests, one run per stack", () => {
    const staging = deploy.jobs.staging;
    expect(environmentName(staging)).toBe("staging");
    expect(staging.needs).toBe("test");
    expect(staging.strategy?.matrix).toEqual({ program: programs });
    expectStackGroup(staging, "${{ matrix.program }}", "staging");
    const up = stepRunning(staging, /pulumi up/);
    expect(up["working-directory"]).toBe("${{ matrix.program }}");
    expect(up.env?.STACK).toBe("staging");
    expect(up.run).not.toContain("--create");
  });

  it("runs ci.yml's tests first, with no secret passed", () => {
    expect(deploy.jobs.test).toEqual({ uses: "./.github/workflows/ci.yml" });
  });
});

describe("preview-diff.yml", () => {
  it("on each pull request push, previews staging and production of every program with --diff", () => {
    expect(diff.on).toEqual({ pull_request: { types: ["opened", "synchronize", "reopened"] } });
    const job = diff.jobs.diff;
    expect(job.strategy?.matrix).toEqual({ program: programs, stack: ["staging", "production"] });
    const preview = stepRunning(job, /pulumi preview/);
    expect(preview["working-directory"]).toBe("${{ matrix.program }}");
    expect(preview.run).toContain('pulumi preview --stack "$STACK" --diff --non-interactive');
    expect(preview.run).not.toMatch(/pulumi (up|destroy)/);
  });

  it("comments each (program, stack) on the pull request, also when the preview failed", () => {
    const comment = stepRunning(diff.jobs.diff, /pr-comment\.ts diff/);
    expect(comment.if).toBe("${{ !cancelled() && steps.preview.outcome != 'skipped' }}");
    expect(comment.run).toBe('npx tsx scripts/pr-comment.ts diff --program "$PROGRAM" --stack "$STACK" --outcome "$OUTCOME" --log "$RUNNER_TEMP/preview.log"');
    expect(comment.env).toEqual({
      GH_TOKEN: "${{ github.token }}",
      PR_NUMBER: "${{ github.event.pull_request.number }}",
      PROGRAM: "${{ matrix.program }}",
      STACK: "${{ matrix.stack }}",
      OUTCOME: "${{ steps.preview.outcome }}",
    });
  });

  it("does not join the deploy group (a queued diff would cancel a queued deploy); a newer push's diff replaces a queued one", () => {
    expect(concurrencyOf(diff.jobs.diff)).toEqual({
      group: "preview-diff-${{ github.event.pull_request.number }}-${{ matrix.program }}-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
  });
});

describe("preview-environment.yml", () => {
  const up = previews.jobs.up;
  const destroy = previews.jobs.destroy;
  const upStep = stepRunning(up, /pulumi up/);
  const lines = (upStep.run ?? "").split("\n").map((line) => line.trim());

  it("runs on open, every push, reopen and close of a pull request, for every program", () => {
    expect(previews.on).toEqual({ pull_request: { types: ["opened", "synchronize", "reopened", "closed"] } });
    expect(up.strategy?.matrix).toEqual({ program: programs });
    expect(destroy.strategy?.matrix).toEqual({ program: programs });
    expect(up.if).toMatch(/^github\.event\.action != 'closed' && /);
    expect(destroy.if).toMatch(/^github\.event\.action == 'closed' && /);
    expect(environmentName(up)).toBe("preview");
    expect(environmentName(destroy)).toBe("preview");
  });

  it("creates stack pr-<number> when missing, from the `preview` template, and sets the pull request's keys", () => {
    expect(upStep.env).toMatchObject({ PR_NUMBER: "${{ github.event.pull_request.number }}", BRANCH: "${{ github.head_ref }}" });
    expect(previews.env).toEqual({ TEMPLATE_STACK: "preview" });
    const order = [
      'stack="pr-$PR_NUMBER"',
      'pulumi stack select --create "$stack" --secrets-provider "$provider"',
      'pulumi config cp --stack "$TEMPLATE_STACK" --dest "$stack"',
      'pulumi config set --stack "$stack" environment preview',
      'pulumi config set --stack "$stack" --path preview.prNumber "$PR_NUMBER"',
      'pulumi config set --stack "$stack" --path preview.branch -- "$BRANCH"',
      'pulumi_retry_locked "$RUNNER_TEMP/up.log" pulumi up --stack "$stack" --yes --non-interactive',
      'pulumi stack output --stack "$stack" --json > "$RUNNER_TEMP/outputs.json"',
    ].map((line) => lines.indexOf(line));
    expect(order.every((index) => index >= 0), JSON.stringify(order)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("updates the same stack on every push: one group per program and pull request, the close and the reaper included", () => {
    expectStackGroup(up, "${{ matrix.program }}", "pr-${{ github.event.pull_request.number }}");
    expectStackGroup(destroy, "${{ matrix.program }}", "pr-${{ github.event.pull_request.number }}");
    expectStackGroup(reaper.jobs.reap, "${{ matrix.program }}", "pr-${{ matrix.pr }}");
  });

  it("comments the environment's URLs from its stack outputs", () => {
    const comment = stepRunning(up, /pr-comment\.ts environment/);
    expect(comment.run).toContain('--stack "pr-$PR_NUMBER"');
    expect(comment.run).toContain('--outputs "$RUNNER_TEMP/outputs.json"');
    expect(comment.if).toBe("${{ !cancelled() && steps.up.outcome != 'skipped' }}");
  });

  it("on close: destroys then removes the stack (skipping a pull request that never had one), from the base branch", () => {
    const step = stepRunning(destroy, /pulumi destroy/);
    const script = step.run ?? "";
    expect(script.indexOf('exists=$(pulumi_has_stack "$stack")')).toBeGreaterThan(0);
    expect(script.indexOf("pulumi destroy --stack")).toBeGreaterThan(script.indexOf("exists="));
    expect(script.indexOf('pulumi stack rm --stack "$stack" --yes --non-interactive')).toBeGreaterThan(script.indexOf("pulumi destroy --stack"));
    expect(script).not.toContain("--force");
    const checkout = steps(destroy).find((candidate) => candidate.uses?.startsWith("actions/checkout@") === true);
    expect(checkout?.with?.ref).toBe("${{ github.event.pull_request.base.ref }}");
    expect(stepRunning(destroy, /pr-comment\.ts destroyed/).if).toContain("steps.destroy.outputs.existed != 'false'");
  });
});

describe("reap-previews.yml", () => {
  it("runs on a schedule and by hand, one run at a time", () => {
    expect(reaper.on).toEqual({ schedule: [{ cron: "23 */6 * * *" }], workflow_dispatch: null });
    expect(reaper.concurrency).toEqual({ group: "reap-previews", "cancel-in-progress": false });
  });

  it("lists every program's stacks, the open pull requests and the branches, and lets the script choose", () => {
    const select = reaper.jobs.select;
    const list = stepRunning(select, /pulumi stack ls --json/);
    expect(JSON.parse(String(list.env?.PROGRAMS))).toEqual(programs);
    expect(stepRunning(select, /gh pr list/).run).toContain("--state open --limit 1000 --json number,headRefName,isCrossRepository");
    expect(stepRunning(select, /reap-previews\.ts/).run).toContain(
      'npx tsx scripts/reap-previews.ts --stacks "$RUNNER_TEMP/stacks.json" --pulls "$RUNNER_TEMP/pulls.json" --branches "$RUNNER_TEMP/branches.json"',
    );
    expect(select.outputs).toEqual({ stacks: "${{ steps.select.outputs.stacks }}" });
  });

  it("destroys and removes each chosen stack in its own job, in the preview environment", () => {
    const reap = reaper.jobs.reap;
    expect(reap.strategy?.matrix).toEqual({ include: "${{ fromJSON(needs.select.outputs.stacks) }}" });
    expect(reap.if).toBe("needs.select.outputs.stacks != '' && needs.select.outputs.stacks != '[]'");
    expect(environmentName(reap)).toBe("preview");
    const script = stepRunning(reap, /pulumi destroy/).run ?? "";
    expect(script).toContain('pulumi_retry_locked "$RUNNER_TEMP/destroy.log" pulumi destroy --stack "$STACK" --yes --non-interactive');
    expect(script).toContain('pulumi stack rm --stack "$STACK" --yes --non-interactive');
  });
});

describe("ship-image.yml", () => {
  const call = ship.on.workflow_call as { inputs: Record<string, WorkflowInput>; secrets: Record<string, { required?: boolean }> };
  const job = ship.jobs.ship;

  it("is a reusable workflow taking the program dir, stack, image config key and image", () => {
    expect(Object.keys(ship.on)).toEqual(["workflow_call"]);
    const required = Object.entries(call.inputs)
      .filter(([, input]) => input.required === true)
      .map(([name]) => name);
    expect(required).toEqual(["program", "stack", "image-config-key", "image", "platform-repository"]);
    expect(call.inputs["platform-ref"]).toMatchObject({ required: false, default: "main" });
    for (const secret of Object.values(call.secrets)) expect(secret.required).toBe(false);
  });

  it("sets the image in the stack's config and runs pulumi up, in the caller's environment, one run per stack", () => {
    const script = stepRunning(job, /pulumi up/).run ?? "";
    expect(script.indexOf('pulumi config set --stack "$STACK" --path "$IMAGE_KEY" -- "$IMAGE"')).toBeGreaterThan(0);
    expect(script.indexOf("pulumi up")).toBeGreaterThan(script.indexOf("pulumi config set"));
    expect(stepRunning(job, /pulumi up/)["working-directory"]).toBe("${{ inputs.program }}");
    expect(job.environment).toBe("${{ inputs.environment || inputs.stack }}");
    expectStackGroup(job, "${{ inputs.program }}", "${{ inputs.stack }}");
  });

  it("checks its inputs and refuses production outside main before checking anything out", () => {
    const check = steps(job)[0];
    expect(check.name).toBe("Check the inputs");
    expect(check.run).toContain('if [ "$STACK" = production ] && [ "$REF" != refs/heads/main ]; then');
    expect(check.env).toEqual({ STACK: "${{ inputs.stack }}", IMAGE_KEY: "${{ inputs.image-config-key }}", IMAGE: "${{ inputs.image }}", REF: "${{ github.ref }}" });
  });
});

describe("every workflow that changes a stack", () => {
  it("never cancels a run in progress", () => {
    for (const [name, job] of [
      ["deploy staging", deploy.jobs.staging],
      ["deploy production", deploy.jobs.production],
      ["preview up", previews.jobs.up],
      ["preview destroy", previews.jobs.destroy],
      ["reap", reaper.jobs.reap],
      ["ship", ship.jobs.ship],
    ] as const) {
      expect(concurrencyOf(job)?.["cancel-in-progress"], name).toBe(false);
    }
  });
});
