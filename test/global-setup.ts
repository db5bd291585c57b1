import { buildProject } from "./harness/serialize";

/**
 * Compiles the project once before the test files start: several files serialize providers from the tsc
 * build, and without this each parallel process would start its own tsc on a cold cache.
 */
export default async function setup(): Promise<void> {
  await buildProject();
}
