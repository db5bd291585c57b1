import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { allJobs, loadWorkflows, pulumiJobs, sdkVersion, steps, vendoredAction, vendoredSources, workflowsDir, type WorkflowInput } from "./load";

const pinned = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)@([0-9a-f]{40})$/;

/** Every `uses:` of a step, with the tag comment written after it on its line. */
function stepUses(): Array<{ where: string; uses: string; tag: string | undefined; with: Record<string, unknown> }> {
  return loadWorkflows().flatMap(({ file, text, workflow }) => {
    const tagOf = (uses: string): string | undefined => {
      const line = text.split("\n").find((candidate) => candidate.includes(`uses: ${uses}`));
      return line === undefined ? undefined : /#\s*(v\d+\.\d+\.\d+)\s*$/.exec(line)?.[1];
    };
    return Object.entries(workflow.jobs).flatMap(([id, job]) =>
      steps(job)
        .filter((step) => step.uses !== undefined)
        .map((step, index) => ({ where: `${file} ${id} step ${index} (${step.uses})`, uses: step.uses ?? "", tag: tagOf(step.uses ?? ""), with: step.with ?? {} })),
    );
  });
}

describe("every action a step uses", () => {
  const uses = stepUses();
  const sources = vendoredSources();

  it("is pinned to a full commit with its release tag beside it, as listed in SOURCE.md", () => {
    expect(uses.length).toBeGreaterThan(10);
    for (const use of uses) {
      const match = pinned.exec(use.uses);
      expect(match, `${use.where} must be <owner>/<repo>@<40-hex commit>`).not.toBeNull();
      const [, owner, repo, commit] = match ?? [];
      expect(use.tag, `${use.where} needs a '# vX.Y.Z' comment`).toBeDefined();
      expect(sources, use.where).toContainEqual({ action: `${owner}/${repo}`, tag: use.tag, commit });
    }
  });

  it("has its action.yml vendored at that commit, and SOURCE.md lists no action the workflows do not use", () => {
    for (const use of uses) {
      const [, owner, repo, commit] = pinned.exec(use.uses) ?? [];
      expect(vendoredAction(owner, repo, commit), `${use.where}: test/workflows/actions/${owner}/${repo}/${commit}/action.yml`).toBeDefined();
    }
    const used = new Set(uses.map((use) => use.uses));
    for (const source of sources) expect(used, `SOURCE.md row ${source.action}@${source.tag}`).toContain(`${source.action}@${source.commit}`);
  });

  it("is given only inputs its action.yml declares, and every input it requires", () => {
    for (const use of uses) {
      const [, owner, repo, commit] = pinned.exec(use.uses) ?? [];
      const inputs = vendoredAction(owner, repo, commit)?.inputs ?? {};
      for (const name of Object.keys(use.with)) expect(Object.keys(inputs), `${use.where}: input '${name}'`).toContain(name);
      for (const [name, input] of Object.entries(inputs)) {
        const required = input.required === true || input.required === "true";
        if (required && input.default === undefined) expect(use.with, `${use.where} must give required input '${name}'`).toHaveProperty(name);
      }
    }
  });

  it("pulumi/actions installs the CLI only, at the exact version of the @pulumi/pulumi SDK in package.json", () => {
    const version = sdkVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const pulumiSteps = uses.filter((use) => use.uses.startsWith("pulumi/actions@"));
    expect(pulumiSteps.length).toBeGreaterThanOrEqual(8);
    for (const step of pulumiSteps) {
      expect(step.with, step.where).toEqual({ "pulumi-version": version });
    }
  });

  it("installs the pinned CLI before any step runs `pulumi`, in every job that runs it", () => {
    const jobs = allJobs().filter(({ job }) => steps(job).some((step) => /(^|\s)pulumi\s/m.test(step.run ?? "") || /pulumi_ci_login/.test(step.run ?? "")));
    expect(jobs.map(({ file, id }) => `${file} ${id}`).sort()).toEqual(pulumiJobs);
    for (const { file, id, job } of jobs) {
      const all = steps(job);
      const install = all.findIndex((step) => step.uses?.startsWith("pulumi/actions@") === true);
      const firstRun = all.findIndex((step) => /pulumi/.test(step.run ?? ""));
      expect(install, `${file} ${id}`).toBeGreaterThanOrEqual(0);
      expect(install, `${file} ${id}`).toBeLessThan(firstRun);
    }
  });
});

describe("every reusable workflow a job calls", () => {
  const callers = allJobs().filter(({ job }) => job.uses !== undefined);

  it("is a local workflow_call workflow given only the inputs it declares and all it requires", () => {
    expect(callers.map(({ file, id, job }) => `${file} ${id} → ${job.uses}`)).toEqual(["deploy.yml test → ./.github/workflows/ci.yml"]);
    for (const { file, id, job } of callers) {
      const target = path.join(workflowsDir, "..", "..", job.uses ?? "");
      expect(fs.existsSync(target), `${file} ${id}`).toBe(true);
      const called = loadWorkflows().find((entry) => entry.file === path.basename(target))?.workflow;
      expect(called?.on, `${job.uses} must have on.workflow_call`).toHaveProperty("workflow_call");
      const declared = ((called?.on.workflow_call as { inputs?: Record<string, WorkflowInput> } | null)?.inputs ?? {}) as Record<string, WorkflowInput>;
      for (const name of Object.keys(job.with ?? {})) expect(Object.keys(declared), `${file} ${id}: input '${name}'`).toContain(name);
      for (const [name, input] of Object.entries(declared)) {
        if (input.required === true && input.default === undefined) expect(job.with ?? {}, `${file} ${id}: required '${name}'`).toHaveProperty(name);
      }
    }
  });
});
