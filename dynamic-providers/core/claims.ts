/**
 * Remote objects this provider process has made or taken over during this run, by kind. A create that looks
 * for the object an interrupted earlier create left behind (a volume or address with no name of its own)
 * skips the ones claimed here, so two resources created in parallel never take the same object.
 *
 * Kept on `globalThis`, read at call time: Pulumi serializes each provider with what its functions capture,
 * and a captured module-level Set would be copied per resource instead of shared by the host process.
 */
function registry(kind: string): string[] {
  const holder = globalThis as typeof globalThis & { __platformClaims?: Record<string, string[]> };
  holder.__platformClaims ??= {};
  holder.__platformClaims[kind] ??= [];
  return holder.__platformClaims[kind];
}

export function isClaimed(kind: string, id: string): boolean {
  return registry(kind).includes(id);
}

/** Records `id` as taken by a resource of this run; false when another one took it first. */
export function claim(kind: string, id: string): boolean {
  const claimed = registry(kind);
  if (claimed.includes(id)) return false;
  claimed.push(id);
  return true;
}

/** Forgets every claim, as a new provider process would start (tests simulating a crashed host). */
export function forgetClaims(): void {
  delete (globalThis as typeof globalThis & { __platformClaims?: Record<string, string[]> }).__platformClaims;
}
