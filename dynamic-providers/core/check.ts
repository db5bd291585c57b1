export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * Collects check() failures for one resource; every reason names the resource, the field, the rule and
 * the value: "fly machine 'worker': guest.memory_mb must be a multiple of 256, got 300".
 */
export interface Failures {
  readonly list: CheckFailure[];
  add(property: string, rule: string, value?: unknown): void;
  /** `value` must be one of `allowed`; undefined passes unless `required`. */
  oneOf(property: string, value: unknown, allowed: readonly string[], required?: boolean): void;
  integer(property: string, value: unknown, range: { min?: number; max?: number; required?: boolean }): void;
  pattern(property: string, value: unknown, regex: RegExp, rule: string, required?: boolean): void;
}

/** What the engine passes to check() for a value not known yet (during preview), e.g. an output of a new resource. */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === unknownValue;
}

export function failures(kind: string, name: unknown): Failures {
  const list: CheckFailure[] = [];
  const label = typeof name === "string" && name.length > 0 ? `${kind} '${name}'` : kind;
  const add = (property: string, rule: string, value?: unknown): void => {
    const got = value === undefined ? "" : `, got ${JSON.stringify(value)}`;
    list.push({ property, reason: `${label}: ${property} ${rule}${got}` });
  };
  return {
    list,
    add,
    oneOf(property, value, allowed, required = false) {
      if (value === undefined || value === null) {
        if (required) add(property, `is required (one of ${allowed.join(", ")})`);
        return;
      }
      if (typeof value !== "string" || !allowed.includes(value)) add(property, `must be one of ${allowed.join(", ")}`, value);
    },
    integer(property, value, range) {
      if (value === undefined || value === null) {
        if (range.required) add(property, "is required");
        return;
      }
      if (typeof value !== "number" || !Number.isInteger(value)) return add(property, "must be a whole number", value);
      if (range.min !== undefined && value < range.min) return add(property, rangeRule(range), value);
      if (range.max !== undefined && value > range.max) add(property, rangeRule(range), value);
    },
    pattern(property, value, regex, rule, required = true) {
      if (value === undefined || value === null || value === "") {
        if (required) add(property, `is required (${rule})`);
        return;
      }
      if (typeof value !== "string" || !regex.test(value)) add(property, `must be ${rule}`, value);
    },
  };
}

function rangeRule(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return `must be between ${range.min} and ${range.max}`;
  return range.min !== undefined ? `must be at least ${range.min}` : `must be at most ${range.max}`;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration as fly.toml and the Machines API write them ("30s", "1m30s", "500ms") into ms. */
export function parseDuration(text: string): number | undefined {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
  if (!parts) return undefined;
  return parts.reduce((total, part) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part) ?? [];
    return total + Number(amount) * durationUnits[unit];
  }, 0);
}

/** Stable comparison for diff(): equal JSON after sorting object keys and dropping undefined. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, inner]) => inner !== undefined)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      );
    }
    return v;
  });
}

/** diff() helper: which of `fields` differ between olds and news, split into in-place changes and replaces. */
export function changedFields(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  fields: readonly string[],
): string[] {
  return fields.filter((field) => !sameValue(olds[field], news[field]));
}
