import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  commentFromArgs,
  commentMarker,
  destroyedBody,
  diffBody,
  environmentBody,
  maxBodyLength,
  upsertComment,
  urlsOf,
  type GitHubClient,
} from "../../scripts/pr-comment";

interface Stored {
  id: number;
  body: string;
}

/** An in-memory GitHub issue-comments API; records every call. */
function fakeGitHub(initial: Stored[]): { client: GitHubClient; comments: Stored[]; calls: string[] } {
  const comments = initial.map((comment) => ({ ...comment }));
  const calls: string[] = [];
  let next = 1000;
  const respond = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.pathname}${url.search}`);
    expect(new Headers(init?.headers).get("authorization")).toBe("Bearer token-1");
    if (method === "GET") {
      const perPage = Number(url.searchParams.get("per_page"));
      const page = Number(url.searchParams.get("page"));
      return respond(200, comments.slice((page - 1) * perPage, page * perPage));
    }
    const body = (JSON.parse(String(init?.body)) as { body: string }).body;
    if (method === "PATCH") {
      const id = Number(url.pathname.split("/").pop());
      const comment = comments.find((candidate) => candidate.id === id);
      if (comment === undefined) return respond(404, { message: "Not Found" });
      comment.body = body;
      return respond(200, comment);
    }
    const created = { id: next++, body };
    comments.push(created);
    return respond(201, created);
  }) as typeof fetch;
  return { client: { apiUrl: "https://api.github.test", token: "token-1", fetch: fakeFetch }, comments, calls };
}

const request = (program: string, stack: string, text: string) => ({
  repository: "acme/platform",
  issue: 42,
  body: diffBody({ program, stack, outcome: "success", log: text }),
});

describe("commentMarker", () => {
  it("names the program directory and the stack, one marker per pair", () => {
    expect(commentMarker({ program: ".", stack: "staging" })).toBe('<!-- pulumi-pr-comment program="." stack="staging" -->');
    const markers = [".", "examples/chat-dev"].flatMap((program) => ["staging", "production", "pr-1", "pr-12"].map((stack) => commentMarker({ program, stack })));
    expect(new Set(markers).size).toBe(8);
    for (const marker of markers) expect(markers.filter((other) => other.includes(marker))).toEqual([marker]);
  });

  it("refuses a value that could break out of the marker", () => {
    expect(() => commentMarker({ program: ".", stack: 'a" -->' })).toThrow('stack must be letters, digits, \'.\', \'_\', \'/\' or \'-\', got "a\\" -->"');
    expect(() => commentMarker({ program: "a b", stack: "staging" })).toThrow("program must be");
  });
});

describe("upsertComment", () => {
  it("creates the comment of a stack that has none, leaving the other stacks' comments alone", async () => {
    const other = request("examples/chat-dev", "staging", "chat-dev diff").body;
    const github = fakeGitHub([{ id: 1, body: other }, { id: 2, body: "LGTM" }]);
    expect(await upsertComment(github.client, request(".", "staging", "platform diff"))).toEqual({ action: "created", id: 1000 });
    expect(github.comments.map((comment) => comment.id)).toEqual([1, 2, 1000]);
    expect(github.comments[0].body).toBe(other);
    expect(github.calls).toEqual(["GET /repos/acme/platform/issues/42/comments?per_page=100&page=1", "POST /repos/acme/platform/issues/42/comments"]);
  });

  it("edits its own comment on a later push, and only that one", async () => {
    const github = fakeGitHub([
      { id: 1, body: request(".", "production", "old production").body },
      { id: 2, body: request(".", "staging", "old staging").body },
      { id: 3, body: request("examples/chat-dev", "staging", "chat-dev staging").body },
    ]);
    expect(await upsertComment(github.client, request(".", "staging", "new staging"))).toEqual({ action: "updated", id: 2 });
    expect(github.comments.map((comment) => /<pre>\n(.*)\n<\/pre>/.exec(comment.body)?.[1])).toEqual(["old production", "new staging", "chat-dev staging"]);
  });

  it("does not take pr-12's comment for pr-1's", async () => {
    const pr12 = environmentBody({ program: ".", stack: "pr-12", outcome: "success", log: "", outputs: {} });
    const github = fakeGitHub([{ id: 5, body: pr12 }]);
    const pr1 = environmentBody({ program: ".", stack: "pr-1", outcome: "success", log: "", outputs: {} });
    expect(await upsertComment(github.client, { repository: "acme/platform", issue: 42, body: pr1 })).toEqual({ action: "created", id: 1000 });
    expect(github.comments[0].body).toBe(pr12);
  });

  it("finds its comment past the first page of comments", async () => {
    const chatter = Array.from({ length: 130 }, (_, index) => ({ id: index + 1, body: `comment ${index}` }));
    const github = fakeGitHub([...chatter, { id: 500, body: request(".", "staging", "old").body }]);
    expect(await upsertComment(github.client, request(".", "staging", "new"))).toEqual({ action: "updated", id: 500 });
    expect(github.calls.filter((call) => call.startsWith("GET"))).toHaveLength(2);
    expect(github.comments).toHaveLength(131);
  });

  it("leaves a comment that quotes the marker (not starting with it) alone", async () => {
    const quoted = `> ${request(".", "staging", "old").body}`;
    const github = fakeGitHub([{ id: 9, body: quoted }]);
    expect((await upsertComment(github.client, request(".", "staging", "new"))).action).toBe("created");
    expect(github.comments[0].body).toBe(quoted);
  });

  it("refuses a body without its marker, and reports the API's error", async () => {
    const github = fakeGitHub([]);
    await expect(upsertComment(github.client, { repository: "acme/platform", issue: 42, body: "no marker" })).rejects.toThrow("the body must start with its marker");
    const failing: GitHubClient = { ...github.client, fetch: (async () => new Response("Bad credentials", { status: 401 })) as typeof fetch };
    await expect(upsertComment(failing, request(".", "staging", "x"))).rejects.toThrow("GET /repos/acme/platform/issues/42/comments?per_page=100&page=1 answered 401: Bad credentials");
  });
});

describe("comment bodies", () => {
  it("the diff: marker first, the outcome, the log without colour codes and HTML-escaped", () => {
    const body = diffBody({ program: "examples/chat-dev", stack: "production", outcome: "failure", log: "\u001b[32m+ fly:Machine <web>\u001b[0m\n", runUrl: "https://github.com/acme/platform/actions/runs/7" });
    expect(body.split("\n")[0]).toBe('<!-- pulumi-pr-comment program="examples/chat-dev" stack="production" -->');
    expect(body).toContain("❌ **pulumi preview --diff** · program `examples/chat-dev` · stack `production` · failure");
    expect(body).toContain("<pre>\n+ fly:Machine &lt;web&gt;\n</pre>");
    expect(body).toContain("[Workflow run](https://github.com/acme/platform/actions/runs/7)");
  });

  it("a long log keeps its end (Pulumi's summary) and the body fits a comment, escaping included", () => {
    const log = `${Array.from({ length: 20_000 }, (_, index) => `line ${index} <a & b>`).join("\n")}\nResources: 3 to update`;
    const body = diffBody({ program: ".", stack: "staging", outcome: "success", log });
    expect(body.length).toBeLessThanOrEqual(maxBodyLength);
    expect(body).toContain("Resources: 3 to update\n</pre>");
    expect(body).not.toContain("line 0 ");
    expect(body).toMatch(/<pre>\nline \d+ &lt;a &amp; b&gt;\n/);
    expect(body).toContain("The start of the log was cut");
  });

  it("a preview environment lists every stack output that is a URL, nested ones included, and no secret", () => {
    const outputs = { workerUrl: "https://pr-12-worker.fly.dev", dashboard: { url: "https://pr-12-dash.fly.dev", appName: "pr-12-dash" }, dbUrl: "[secret]", hosts: ["http://a.example"] };
    expect(urlsOf(outputs)).toEqual([
      { name: "workerUrl", url: "https://pr-12-worker.fly.dev" },
      { name: "dashboard.url", url: "https://pr-12-dash.fly.dev" },
      { name: "hosts[0]", url: "http://a.example" },
    ]);
    const body = environmentBody({ program: ".", stack: "pr-12", outcome: "success", log: "", outputs });
    expect(body).toContain("- `workerUrl`: https://pr-12-worker.fly.dev\n- `dashboard.url`: https://pr-12-dash.fly.dev");
    expect(body).not.toContain("[secret]");
    expect(environmentBody({ program: ".", stack: "pr-12", outcome: "failure", log: "", outputs: {} })).toContain("No URLs: the update did not finish.");
  });

  it("a teardown says why, and on failure that the reaper retries", () => {
    expect(destroyedBody({ program: ".", stack: "pr-3", outcome: "success", log: "", reason: "the pull request was closed" })).toContain(
      "✅ **Preview environment destroyed and its stack removed** · program `.` · stack `pr-3` · success\n\nReason: the pull request was closed.",
    );
    expect(destroyedBody({ program: ".", stack: "pr-3", outcome: "failure", log: "" })).toContain("The scheduled reaper (`reap-previews` workflow) retries the teardown.");
  });
});

describe("commentFromArgs", () => {
  const env = { PR_NUMBER: "42", GITHUB_REPOSITORY: "acme/platform", GITHUB_SERVER_URL: "https://github.com", GITHUB_RUN_ID: "7" };

  it("builds the environment comment from the files the workflow wrote", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify({ url: "https://pr-42.fly.dev" }));
    fs.writeFileSync(path.join(dir, "up.log"), "Resources: 5 created");
    const result = commentFromArgs(
      ["environment", "--program", ".", "--stack", "pr-42", "--outcome", "success", "--log", path.join(dir, "up.log"), "--outputs", path.join(dir, "outputs.json")],
      env,
    );
    expect(result.repository).toBe("acme/platform");
    expect(result.issue).toBe(42);
    expect(result.body).toContain("- `url`: https://pr-42.fly.dev");
    expect(result.body).toContain("Resources: 5 created");
    expect(result.body).toContain("[Workflow run](https://github.com/acme/platform/actions/runs/7)");
  });

  it("says so when a log was never written (the step failed before it)", () => {
    expect(commentFromArgs(["diff", "--program", ".", "--stack", "staging", "--outcome", "failure", "--log", "/nonexistent/preview.log"], env).body).toContain(
      "(no log: /nonexistent/preview.log was not written)",
    );
  });

  it.each([
    [["deploy", "--program", ".", "--stack", "staging"], env, "the first argument must be diff, environment or destroyed, got 'deploy'"],
    [["diff", "--stack", "staging"], env, "--program is required"],
    [["diff", "--program", ".", "--stack", "staging", "--outcome", "ok"], env, "--outcome must be one of success, failure, cancelled, skipped, got 'ok'"],
    [["diff", "--program", ".", "--stack", "staging"], { ...env, PR_NUMBER: "" }, "environment variable PR_NUMBER is required"],
    [["diff", "--program", ".", "--stack", "staging"], { ...env, PR_NUMBER: "x" }, "PR_NUMBER must be a pull request number, got 'x'"],
  ])("refuses bad arguments, naming them (%#)", (argv, environment, message) => {
    expect(() => commentFromArgs(argv, environment)).toThrow(message);
  });
});
