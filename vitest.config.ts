import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the cores: one file at a time on CI's 2 cores. Most files wait
    // on emulators, PostgreSQL and child processes rather than compute, so two at a time nearly halve the run.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
  },
});
