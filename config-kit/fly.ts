/** Fly rules for stack config, shared with the fly providers' check() so a config that parses also passes it. */
import { appNamePattern } from "../dynamic-providers/fly/app";
import { checkGuest, checkHealthCheck } from "../dynamic-providers/fly/machine-check";
import type { CpuKind, MachineCheck, MachineGuest } from "../dynamic-providers/fly/machine-types";
import { flyRegions } from "../dynamic-providers/fly/regions";
import { renamed } from "./problems";
import type { Reader } from "./reader";

export { appNamePattern, flyRegions };

/** What `appNamePattern` asks for, in the words of a `must be …` message. */
export const flyAppNameRule = "1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit";

const guestFields = ["cpuKind", "cpus", "memoryMb"] as const;

/**
 * A Fly guest at `path` (`{ cpuKind, cpus, memoryMb }`) checked by the fly:Machine provider's own rules.
 * Without `fallback` every field is required.
 */
export function readGuest(read: Reader, path: string, value: unknown, fallback?: MachineGuest): MachineGuest {
  const raw = read.object(path, value, guestFields);
  const missing = fallback ? [] : guestFields.filter((field) => raw[field] === undefined || raw[field] === null);
  if (value === undefined || value === null) {
    if (!fallback) read.problems.add(path, `is required (an object with ${guestFields.join(", ")})`);
  } else {
    for (const field of missing) read.problems.add(`${path}.${field}`, "is required");
  }
  const guest: MachineGuest = {
    cpuKind: read.text(`${path}.cpuKind`, raw.cpuKind, fallback?.cpuKind ?? "shared") as CpuKind,
    cpus: read.number(`${path}.cpus`, raw.cpus, fallback?.cpus ?? 1),
    memoryMb: read.number(`${path}.memoryMb`, raw.memoryMb, fallback?.memoryMb ?? 256),
  };
  // The provider names its fields `guest.*`; here they are the stack config key's.
  if (missing.length === 0) checkGuest(renamed(read.problems, (property) => property.replace(/^guest/, path)), guest);
  return guest;
}

const checkFields = ["type", "port", "interval", "timeout", "gracePeriod", "method", "path", "headers"];

/** Fly health checks at `path` (a list of fly.toml `[[http_service.checks]]`), checked by the fly:Machine provider's rules. */
export function readChecks(read: Reader, path: string, value: unknown, fallback: MachineCheck[]): MachineCheck[] {
  if (value === undefined || value === null) return fallback;
  return read.list(path, value).map((item, index) => {
    const at = `${path}[${index}]`;
    const raw = read.object(at, item, checkFields);
    const check: MachineCheck = { type: read.oneOf(`${at}.type`, raw.type, ["http", "tcp"], "http") };
    if (raw.port !== undefined) check.port = read.number(`${at}.port`, raw.port, 0);
    for (const field of ["interval", "timeout", "gracePeriod", "method", "path"] as const) {
      const text = read.text(`${at}.${field}`, raw[field]);
      if (text !== undefined) check[field] = text;
    }
    if (raw.headers !== undefined) check.headers = read.textMap(`${at}.headers`, raw.headers);
    checkHealthCheck(read.problems, at, check);
    return check;
  });
}
