import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseReapInput, previewNumber, selectStacksToReap, type PullRequest, type StackEntry } from "../../scripts/reap-previews";

const root = path.join(__dirname, "..", "..");
const stack = (name: string, program = "."): StackEntry => ({ program, name });
const open = (number: number, headRefName: string, extra: Partial<PullRequest> = {}): PullRequest => ({ number, headRefName, ...extra });

describe("previewNumber", () => {
  it.each([
    ["pr-1", 1],
    ["pr-12", 12],
    ["pr-123456789", 123456789],
    ["organization/pr-12", 12],
    ["organization/platform/pr-12", 12],
  ])("%s is the preview of pull request %i", (name, number) => {
    expect(previewNumber(name)).toBe(number);
  });

  it.each(["staging", "production", "preview", "pr-", "pr-0", "pr-012", "pr-12-old", "pr-12a", "PR-12", "pr_12", "pr-1234567890", "a/b/c/pr-12", "/pr-12", "org//pr-12", "pr-12/"])(
    "%s is not a preview stack",
    (name) => {
      expect(previewNumber(name)).toBeUndefined();
    },
  );
});

describe("selectStacksToReap", () => {
  const branches = ["main", "feature/open", "feature/other"];

  it("destroys a preview whose pull request is closed (not among the open ones)", () => {
    expect(selectStacksToReap({ stacks: [stack("pr-7")], pulls: [open(8, "feature/open")], branches })).toEqual([
      { program: ".", stack: "pr-7", pr: 7, reason: "pull request #7 is not open (closed or merged)" },
    ]);
  });

  it("destroys a preview whose pull request is open but whose branch is gone", () => {
    expect(selectStacksToReap({ stacks: [stack("pr-9", "examples/chat-dev")], pulls: [open(9, "feature/deleted")], branches })).toEqual([
      { program: "examples/chat-dev", stack: "pr-9", pr: 9, reason: "branch 'feature/deleted' of pull request #9 is gone" },
    ]);
  });

  it("keeps a preview whose pull request is open and whose branch exists", () => {
    expect(selectStacksToReap({ stacks: [stack("pr-8"), stack("pr-8", "examples/chat-dev")], pulls: [open(8, "feature/open")], branches })).toEqual([]);
  });

  it("never selects a stack that is not a preview, even with no pull request open", () => {
    const stacks = ["staging", "production", "preview", "dev", "organization/platform/production"].map((name) => stack(name));
    expect(selectStacksToReap({ stacks, pulls: [], branches: [] })).toEqual([]);
  });

  it("ignores malformed preview names", () => {
    const stacks = ["pr-", "pr-0", "pr-012", "pr-12-old", "PR-12", "pr-abc", "pr-12/extra"].map((name) => stack(name));
    expect(selectStacksToReap({ stacks, pulls: [], branches })).toEqual([]);
  });

  it("does not mix up pr-1 and pr-12, nor the same number in two programs", () => {
    const result = selectStacksToReap({
      stacks: [stack("pr-1"), stack("pr-12"), stack("pr-1", "examples/chat-dev"), stack("pr-12", "examples/chat-dev")],
      pulls: [open(12, "feature/open")],
      branches,
    });
    expect(result.map(({ program, stack: name }) => `${program} ${name}`)).toEqual([". pr-1", "examples/chat-dev pr-1"]);
  });

  it("keeps a fork's open pull request (its branch lives in the fork), and counts only OPEN entries as open", () => {
    expect(selectStacksToReap({ stacks: [stack("pr-5")], pulls: [open(5, "patch-1", { isCrossRepository: true })], branches })).toEqual([]);
    expect(selectStacksToReap({ stacks: [stack("pr-5"), stack("pr-6")], pulls: [open(5, "feature/open", { state: "CLOSED" }), open(6, "feature/open", { state: "OPEN" })], branches })).toEqual([
      { program: ".", stack: "pr-5", pr: 5, reason: "pull request #5 is not open (closed or merged)" },
    ]);
  });

  it("keeps the listed name (qualified or not) for `pulumi destroy --stack`, and lists a stack once", () => {
    expect(selectStacksToReap({ stacks: [stack("organization/platform/pr-3"), stack("organization/platform/pr-3")], pulls: [], branches })).toEqual([
      { program: ".", stack: "organization/platform/pr-3", pr: 3, reason: "pull request #3 is not open (closed or merged)" },
    ]);
  });
});

describe("parseReapInput", () => {
  it("accepts the shapes `pulumi stack ls`, `gh pr list` and `gh api branches` give", () => {
    expect(parseReapInput([{ program: ".", name: "pr-1", current: false }], [{ number: 1, headRefName: "a", isCrossRepository: false }], ["a"])).toEqual({
      stacks: [{ program: ".", name: "pr-1" }],
      pulls: [{ number: 1, headRefName: "a", isCrossRepository: false }],
      branches: ["a"],
    });
  });

  it.each([
    [{}, [], [], "stacks must be a JSON array"],
    [[{ name: "pr-1" }], [], [], "stacks[0] must be { program: string, name: string }"],
    [[], [{ number: "1", headRefName: "a" }], [], "pulls[0] must be { number: integer, headRefName: string }"],
    [[], null, [], "pulls must be a JSON array"],
    [[], [], [1], "branches[0] must be a branch name"],
  ])("refuses malformed input, naming the element (%#)", (stacks, pulls, branchList, message) => {
    expect(() => parseReapInput(stacks, pulls, branchList)).toThrow(message);
  });
});

describe("the command the workflow runs", () => {
  const run = (files: Record<string, unknown>, args?: string[]): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reap-"));
    for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.json`), typeof value === "string" ? value : JSON.stringify(value));
    const argv = args ?? ["--stacks", path.join(dir, "stacks.json"), "--pulls", path.join(dir, "pulls.json"), "--branches", path.join(dir, "branches.json")];
    return execFileSync(path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, "scripts", "reap-previews.ts"), ...argv], { encoding: "utf8", stdio: "pipe" });
  };

  it("prints the stacks to destroy as a JSON matrix and fails on a bad file, naming it", () => {
    const stacks = [stack("staging"), stack("pr-2"), stack("pr-3", "examples/chat-dev"), stack("pr-4")];
    const out = run({ stacks, pulls: [open(3, "gone"), open(4, "feature/x")], branches: ["main", "feature/x"] });
    expect(JSON.parse(out)).toEqual([
      { program: ".", stack: "pr-2", pr: 2, reason: "pull request #2 is not open (closed or merged)" },
      { program: "examples/chat-dev", stack: "pr-3", pr: 3, reason: "branch 'gone' of pull request #3 is gone" },
    ]);
    expect(() => run({ stacks: "not json", pulls: [], branches: [] })).toThrow(/--stacks .*stacks\.json/);
    expect(() => run({}, ["--stacks"])).toThrow(/usage: reap-previews\.ts --stacks <file> --pulls <file> --branches <file>/);
  });
});
