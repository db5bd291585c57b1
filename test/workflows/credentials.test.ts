import { describe, expect, it } from "vitest";
import { allJobs, loadWorkflows, pulumiJobs, secretReference, steps, stringsIn, type Job } from "./load";

/** What a self-managed backend or Pulumi Cloud needs; every Pulumi step gets the whole set. */
const backendSecrets = {
  PULUMI_BACKEND_URL: "PULUMI_BACKEND_URL",
  PULUMI_ACCESS_TOKEN: "PULUMI_ACCESS_TOKEN",
  PULUMI_CONFIG_PASSPHRASE: "PULUMI_CONFIG_PASSPHRASE",
  PULUMI_SECRETS_PROVIDER: "PULUMI_SECRETS_PROVIDER",
  AWS_ACCESS_KEY_ID: "AWS_ACCESS_KEY_ID",
  AWS_SECRET_ACCESS_KEY: "AWS_SECRET_ACCESS_KEY",
  GOOGLE_CREDENTIALS: "GOOGLE_CREDENTIALS",
  AZURE_STORAGE_ACCOUNT: "AZURE_STORAGE_ACCOUNT",
  AZURE_STORAGE_KEY: "AZURE_STORAGE_KEY",
};
/** What the providers read (README "Environment variables the providers read"), from these secrets. */
const providerSecrets = {
  FLY_API_TOKEN: "FLY_API_TOKEN_ORG",
  NEON_API_KEY: "NEON_API_KEY",
  CLOUDFLARE_API_TOKEN: "CLOUDFLARE_API_TOKEN_PULUMI",
  GITHUB_TOKEN: "PULUMI_GITHUB_TOKEN",
};

const referencesSecret = (value: unknown): boolean => stringsIn(value).some((text) => secretReference.test(text));
const secretEnv = (env: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env ?? {})
      .filter(([, value]) => referencesSecret(value))
      .map(([name, value]) => [name, /secrets\.([A-Za-z0-9_]+)/.exec(String(value))?.[1] ?? ""]),
  );

function jobsWithSecrets(): string[] {
  return allJobs()
    .filter(({ job }) => referencesSecret(job))
    .map(({ file, id }) => `${file} ${id}`)
    .sort();
}

describe("credentials", () => {
  it("no workflow-level env, trigger, permission or concurrency refers to a secret", () => {
    for (const { file, workflow } of loadWorkflows()) {
      const { jobs: _jobs, ...rest } = workflow;
      expect(referencesSecret(rest), file).toBe(false);
    }
  });

  it("only the deploy, preview and teardown jobs refer to secrets; ci.yml's test job sees none", () => {
    expect(jobsWithSecrets()).toEqual(pulumiJobs);
    expect(referencesSecret(loadWorkflows().find((entry) => entry.file === "ci.yml")?.workflow)).toBe(false);
  });

  it("no job passes its secrets to a reusable workflow (deploy.yml's call of ci.yml gets none)", () => {
    for (const { file, id, job } of allJobs()) expect(job.secrets, `${file} ${id}`).toBeUndefined();
  });

  it("secrets sit on the Pulumi step alone (not the job env, not `npm ci`, not the comment step)", () => {
    for (const { file, id, job } of allJobs()) {
      expect(referencesSecret(job.env), `${file} ${id} job env`).toBe(false);
      for (const step of steps(job)) {
        const holdsSecrets = referencesSecret(step.env);
        if (/npm ci|pr-comment\.ts|gh pr list/.test(step.run ?? "")) expect(holdsSecrets, `${file} ${id}: ${step.run}`).toBe(false);
        if (holdsSecrets) expect(step.run, `${file} ${id}: ${step.name}`).toMatch(/source "\$GITHUB_WORKSPACE\/scripts\/pulumi-ci\.sh"\n\s*pulumi_ci_login/);
      }
    }
  });

  it("every Pulumi step gets the backend set; those that run the program get the provider tokens, by these names", () => {
    const pulumiSteps = allJobs().flatMap(({ file, id, job }) => steps(job).filter((step) => referencesSecret(step.env)).map((step) => ({ file, id, step })));
    expect(pulumiSteps).toHaveLength(pulumiJobs.length);
    for (const { file, id, step } of pulumiSteps) {
      {
        const env = secretEnv(step.env);
        const listsOnly = /pulumi stack ls/.test(step.run ?? "") && !/pulumi (up|destroy|preview)/.test(step.run ?? "");
        expect(env, `${file} ${id}: ${step.name}`).toEqual(listsOnly ? backendSecrets : { ...backendSecrets, ...providerSecrets });
      }
    }
  });

  it("the only other secret read is the platform repository token of ship-image's checkout", () => {
    const elsewhere = allJobs().flatMap(({ file, id, job }) =>
      steps(job)
        .filter((step) => referencesSecret(step.with))
        .map((step) => `${file} ${id} ${step.uses?.split("@")[0]}: ${JSON.stringify(step.with)}`),
    );
    expect(elsewhere).toEqual([
      'ship-image.yml ship actions/checkout: {"repository":"${{ inputs.platform-repository }}","ref":"${{ inputs.platform-ref }}","token":"${{ secrets.PLATFORM_REPOSITORY_TOKEN || github.token }}","persist-credentials":false}',
    ]);
  });

  it("no checkout leaves the workflow token in .git for later steps", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of steps(job).filter((candidate) => candidate.uses?.startsWith("actions/checkout@") === true)) {
        expect(step.with?.["persist-credentials"], `${file} ${id}`).toBe(false);
      }
    }
  });
});

describe("pull requests from forks", () => {
  const prJobs = allJobs().filter(({ file }) => file.startsWith("preview-"));

  it("no workflow runs on pull_request_target (which would hand a fork's code this repository's secrets)", () => {
    for (const { file, workflow } of loadWorkflows()) expect(Object.keys(workflow.on ?? {}), file).not.toContain("pull_request_target");
  });

  it("every pull-request job with credentials runs only for a branch of this repository", () => {
    expect(prJobs.map(({ file, id }) => `${file} ${id}`)).toEqual(["preview-diff.yml diff", "preview-environment.yml up", "preview-environment.yml destroy"]);
    for (const { file, id, job } of prJobs) {
      expect(job.if, `${file} ${id}`).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    }
  });
});

describe("scripts take expressions only through env", () => {
  it("no `run:` script interpolates `${{ }}` (a branch name or input cannot inject shell)", () => {
    const offenders = allJobs().flatMap(({ file, id, job }: { file: string; id: string; job: Job }) =>
      steps(job)
        .filter((step) => (step.run ?? "").includes("${{"))
        .map((step) => `${file} ${id}: ${step.run}`),
    );
    expect(offenders).toEqual([]);
  });
});

describe("token permissions", () => {
  it("every workflow states its permissions: contents read, pull-requests write only where it comments", () => {
    const permissions = Object.fromEntries(loadWorkflows().map(({ file, workflow }) => [file, workflow.permissions]));
    expect(permissions).toEqual({
      "ci.yml": { contents: "read" },
      "deploy.yml": { contents: "read" },
      "preview-diff.yml": { contents: "read", "pull-requests": "write" },
      "preview-environment.yml": { contents: "read", "pull-requests": "write" },
      "reap-previews.yml": { contents: "read", "pull-requests": "write" },
      "ship-image.yml": { contents: "read" },
    });
  });
});
