import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const helper = path.join(__dirname, "..", "..", "scripts", "pulumi-ci.sh");

/**
 * Runs `script` in bash (as a workflow step does: -e, pipefail) after sourcing scripts/pulumi-ci.sh, with a fake
 * `pulumi` on PATH that records its arguments and answers `stack ls --json` with FAKE_STACKS.
 */
function bash(script: string, env: Record<string, string> = {}): { code: number; out: string; calls: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ci-"));
  const calls = path.join(dir, "calls");
  fs.writeFileSync(
    path.join(dir, "pulumi"),
    [
      "#!/usr/bin/env bash",
      `echo "$*" >> ${JSON.stringify(calls)}`,
      'if [ "$1 $2" = "stack ls" ]; then [ -n "${FAKE_STACKS_FAIL:-}" ] && { echo "error: 403" >&2; exit 255; }; echo "$FAKE_STACKS"; fi',
      "exit 0",
    ].join("\n"),
    { mode: 0o755 },
  );
  const result = spawnSync("bash", ["-eo", "pipefail", "-c", `source ${JSON.stringify(helper)}\n${script}`], {
    encoding: "utf8",
    env: { PATH: `${dir}:${process.env.PATH ?? ""}`, HOME: dir, RUNNER_TEMP: dir, ...env },
  });
  const recorded = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
  return { code: result.status ?? -1, out: `${result.stdout}${result.stderr}`, calls: recorded };
}

describe("pulumi_ci_env / pulumi_ci_login: the backend switch", () => {
  it("PULUMI_BACKEND_URL empty + PULUMI_ACCESS_TOKEN: Pulumi Cloud", () => {
    const result = bash("pulumi_ci_login; echo \"url=${PULUMI_BACKEND_URL-unset} fallback=$PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER\"", {
      PULUMI_BACKEND_URL: "",
      PULUMI_ACCESS_TOKEN: "pul-123",
      PULUMI_CONFIG_PASSPHRASE: "",
    });
    expect(result.code).toBe(0);
    expect(result.out).toContain("Pulumi backend: Pulumi Cloud");
    expect(result.out).toContain("url=unset fallback=true");
    expect(result.calls).toEqual(["login --non-interactive"]);
  });

  it("an s3:// bucket with a passphrase: self-managed, logged in to the bucket; an empty secret is unset, not a passphrase", () => {
    const result = bash('pulumi_ci_login; echo "token=${PULUMI_ACCESS_TOKEN-unset} provider=$(pulumi_ci_secrets_provider)"', {
      PULUMI_BACKEND_URL: "s3://state-bucket?region=eu-central-1",
      PULUMI_CONFIG_PASSPHRASE: "correct horse",
      PULUMI_ACCESS_TOKEN: "",
      PULUMI_SECRETS_PROVIDER: "",
    });
    expect(result.code).toBe(0);
    expect(result.out).toContain("Pulumi backend: self-managed (s3), secrets: passphrase");
    expect(result.out).toContain("token=unset provider=default");
    expect(result.out).not.toContain("correct horse");
    expect(result.calls).toEqual(["login --non-interactive s3://state-bucket?region=eu-central-1"]);
  });

  it("a gs:// bucket with a KMS key: new stacks get that key as their secrets provider", () => {
    const result = bash('pulumi_ci_env; echo "provider=$(pulumi_ci_secrets_provider)"', {
      PULUMI_BACKEND_URL: "gs://state-bucket",
      PULUMI_SECRETS_PROVIDER: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
    });
    expect(result.code).toBe(0);
    expect(result.out).toContain("Pulumi backend: self-managed (gs), secrets: gcpkms");
    expect(result.out).toContain("provider=gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k");
  });

  it.each([
    [{}, "No Pulumi backend: set the PULUMI_BACKEND_URL secret (s3://, gs://, azblob://) for a self-managed backend, or PULUMI_ACCESS_TOKEN for Pulumi Cloud"],
    [{ PULUMI_BACKEND_URL: "azblob://state", PULUMI_CONFIG_PASSPHRASE: "" }, "A self-managed backend needs PULUMI_CONFIG_PASSPHRASE (passphrase secrets) or PULUMI_SECRETS_PROVIDER"],
    [{ PULUMI_BACKEND_URL: "file:///tmp/state", PULUMI_CONFIG_PASSPHRASE: "x" }, "PULUMI_BACKEND_URL is a file:// backend"],
    [{ PULUMI_BACKEND_URL: "https://api.pulumi.example.com" }, "No Pulumi backend"],
  ])("refuses an incomplete backend before logging in (%#)", (env, message) => {
    const result = bash("pulumi_ci_login", env);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain(`::error::${message}`);
    expect(result.calls).toEqual([]);
  });
});

describe("pulumi_has_stack", () => {
  const stacks = JSON.stringify([{ name: "staging" }, { name: "organization/platform/pr-12" }]);

  it("answers true or false, by whole name (pr-1 is not pr-12)", () => {
    const result = bash('echo "$(pulumi_has_stack pr-12) $(pulumi_has_stack pr-1) $(pulumi_has_stack staging) $(pulumi_has_stack production)"', { FAKE_STACKS: stacks });
    expect(result.out.trim()).toBe("true false true false");
  });

  it("fails (stopping the step) when the stacks cannot be listed, rather than answering false", () => {
    const result = bash('exists=$(pulumi_has_stack pr-12)\necho "went on: $exists"', { FAKE_STACKS_FAIL: "1" });
    expect(result.code).not.toBe(0);
    expect(result.out).not.toContain("went on");
  });
});

describe("pulumi_retry_locked", () => {
  /** A command that fails with `message` until it has run `failures` times (its count kept in a file, as each run is a new process). */
  const flaky = (failures: number, message: string) =>
    [
      'echo 0 > "$RUNNER_TEMP/count"',
      'attempt() { local n=$(( $(cat "$RUNNER_TEMP/count") + 1 )); echo "$n" > "$RUNNER_TEMP/count";',
      `  if [ "$n" -le ${failures} ]; then echo ${JSON.stringify(message)}; return 7; fi; echo "done after $n"; }`,
      "",
    ].join("\n");

  it("waits for a stack another run holds (self-managed lock, Pulumi Cloud 409), then runs", () => {
    for (const message of [
      "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
      "error: [409] Conflict: Another update is currently in progress.",
    ]) {
      const result = bash(`${flaky(2, message)}pulumi_retry_locked "$RUNNER_TEMP/log" attempt\necho "log: $(cat "$RUNNER_TEMP/log")"`, { PULUMI_LOCK_RETRY_SECONDS: "0" });
      expect(result.code).toBe(0);
      expect(result.out).toContain("::notice::The stack is in use by another run; attempt 3/10 in 0s");
      expect(result.out).toContain("log: done after 3");
    }
  });

  it("does not retry any other failure, and keeps its exit code", () => {
    const result = bash(`${flaky(5, "error: update failed")}code=0; pulumi_retry_locked "$RUNNER_TEMP/log" attempt || code=$?\necho "code=$code"`, { PULUMI_LOCK_RETRY_SECONDS: "0" });
    expect(result.out).toContain("code=7");
    expect(result.out).not.toContain("::notice::");
  });

  it("gives up after PULUMI_LOCK_RETRIES attempts", () => {
    const result = bash(`${flaky(99, "the stack is currently locked by 1 lock(s)")}code=0; pulumi_retry_locked "$RUNNER_TEMP/log" attempt || code=$?\necho "code=$code runs=$(cat "$RUNNER_TEMP/count")"`, {
      PULUMI_LOCK_RETRY_SECONDS: "0",
      PULUMI_LOCK_RETRIES: "3",
    });
    expect(result.out).toContain("code=7 runs=3");
  });
});
