/**
 * The Neon emulator set-up the provider tests in this folder share: one emulator per file with NEON_API_URL and
 * NEON_API_KEY pointing at it, optionally a project made through the API before the tests, the OpenAPI
 * contract asserted after each test, and the emulator and its PostgreSQL clusters stopped at the end.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import { neonApi, waitForOperations } from "../../dynamic-providers/neon/client";
import { startNeonEmulator, type NeonEmulator } from "../emulators/neon/emulator";
import { stopAllClusters } from "../emulators/postgres/cluster";
import { liveView } from "../support/live";

type NeonApi = ReturnType<typeof neonApi>;
export type CreatedProject = Awaited<ReturnType<NeonApi["createProject"]>>["data"];

export interface UseNeonEmulatorOptions {
  /** @default 100 */
  operationMs?: number;
  /** A project to create (and wait for) before the tests. */
  project?: Parameters<NeonApi["createProject"]>[0]["project"];
  /** Assert the OpenAPI contract after each test. @default true */
  assertContract?: boolean;
}

export interface NeonTestEmulator {
  /** The running emulator: a live view, usable in hooks and tests (not at module level). */
  emu: NeonEmulator;
  /** What createProject answered for `options.project` (live view, as `emu`). */
  project: CreatedProject;
}

export function useNeonEmulator(options: UseNeonEmulatorOptions = {}): NeonTestEmulator {
  let current: NeonEmulator | undefined;
  let created: CreatedProject | undefined;

  beforeAll(async () => {
    current = await startNeonEmulator({ operationMs: options.operationMs ?? 100 });
    process.env.NEON_API_URL = current.url;
    process.env.NEON_API_KEY = current.apiKey;
    if (options.project) {
      const api = neonApi();
      const { data } = await api.createProject({ project: options.project });
      created = data;
      await waitForOperations(api, data.project.id, data.operations);
    }
  });

  if (options.assertContract ?? true) afterEach(() => current?.assertContract());

  afterAll(async () => {
    await current?.close();
    await stopAllClusters();
  });

  return { emu: liveView(() => current, "the Neon emulator"), project: liveView(() => created, "the Neon project") };
}
