/**
 * Seed 000's program (the top-level index.ts) under the mock runtime, for its committed stack files: runProgram
 * with what the README says each user sets (account ids, OAuth client ids, secrets) and the production stack's
 * outputs for a branch stack's StackReference.
 */
import { neonIds } from "../programs/provider-mocks";
import { runProgram, stackValues as programStackValues, type Json, type StackRun } from "../programs/program-harness";

export { accessAud, egressIpOf, generatedSecrets, pagesWriteGroupId, types } from "../programs/provider-mocks";
export { dependsOn, exported, exportValue, flySecrets, isSecret, plainStrings, resource, resourcesOf, reveal, type Registration, type StackRun } from "../programs/program-harness";

export type StackName = "production" | "staging";

/** What each user sets per stack and never commits (README "How a user runs it", the stack files' comments). */
export const userProvided: Json = {
  cloudflare: { accountId: "0123456789abcdef0123456789abcdef", zoneId: "fedcba9876543210fedcba9876543210" },
  github: { repository: "naluma/content-pipeline" },
  wordpress: { baseUrl: "https://naluma.space" },
  dashboard: { access: { googleClientId: "google-client-id.apps.googleusercontent.com", githubClientId: "Iv1.0123456789abcdef" } },
};

/** Dummy secrets (`pulumi config set --secret platform:<key>`), the optional ones too so every seed secret is set. */
export const dummySecrets: Record<string, string> = {
  anthropicApiKey: "sk-ant-dummy-anthropic-7c1e",
  openaiApiKey: "sk-dummy-openai-5b2d",
  wpAppPassword: "dummy wpap pass 9f3a",
  ncbiApiKey: "dummy-ncbi-key-4e8b",
  braveApiKey: "dummy-brave-key-0a6c",
  r2AccessKeyId: "dummy-r2-access-key-id-2d7f",
  r2SecretAccessKey: "dummy-r2-secret-access-key-8c1b",
  slackWebhookUrl: "https://hooks.slack.com/services/dummy-slack-6e0a",
  langfusePublicKey: "pk-lf-dummy-3b9c",
  langfuseSecretKey: "sk-lf-dummy-1f4d",
  sentryDsn: "https://dummy-sentry-5a2e@o1.ingest.sentry.io/1",
  googleOauthClientSecret: "dummy-google-oauth-secret-7d3f",
  githubOauthClientSecret: "dummy-github-oauth-secret-0e5a",
};

/** What the production stack exports, as the StackReference of a branch stack reads it. */
export const productionOutputs = {
  neonProjectId: neonIds.projectId,
  neonMainBranchId: neonIds.mainBranchId,
  neonOwnerRoleName: "naluma_content_owner",
};

/** A committed stack file's `platform:` keys without the prefix. */
export function stackValues(stack: StackName): Json {
  return programStackValues(".", stack, "platform");
}

/** Runs index.ts for one stack, `extra` laid over its stack file; runs are queued because the mock runtime is process-global. */
export function runStack(stack: StackName, extra: Json = {}): Promise<StackRun> {
  return runProgram({
    dir: ".",
    stack,
    namespace: "platform",
    provided: userProvided,
    overrides: extra,
    secrets: dummySecrets,
    stackReferences: () => productionOutputs,
  });
}
