import { describe, expect, it } from "vitest";
import { canonical, changedFields, failures, parseDuration } from "../../dynamic-providers/core/check";

describe("failures", () => {
  it("names the resource, the field, the rule and the value", () => {
    const problems = failures("fly machine", "worker");
    problems.oneOf("services[0].autostop", "sometimes", ["off", "stop", "suspend"]);
    problems.integer("guest.cpus", 3.5, { min: 1 });
    problems.integer("snapshotRetention", 90, { min: 1, max: 60 });
    problems.pattern("name", "Bad_Name", /^[a-z-]+$/, "lowercase letters or dashes");
    expect(problems.list).toEqual([
      { property: "services[0].autostop", reason: `fly machine 'worker': services[0].autostop must be one of off, stop, suspend, got "sometimes"` },
      { property: "guest.cpus", reason: "fly machine 'worker': guest.cpus must be a whole number, got 3.5" },
      { property: "snapshotRetention", reason: "fly machine 'worker': snapshotRetention must be between 1 and 60, got 90" },
      { property: "name", reason: `fly machine 'worker': name must be lowercase letters or dashes, got "Bad_Name"` },
    ]);
  });

  it("reports required fields and accepts valid values", () => {
    const problems = failures("fly volume", undefined);
    problems.pattern("region", undefined, /^[a-z]{3}$/, "a region code");
    problems.oneOf("type", "v4", ["v4", "v6"]);
    problems.integer("sizeGb", 10, { min: 1, max: 500 });
    expect(problems.list).toEqual([{ property: "region", reason: "fly volume: region is required (a region code)" }]);
  });
});

describe("parseDuration", () => {
  it("parses Go durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("999999h")).toBe(999_999 * 3_600_000);
    expect(parseDuration("30000s")).toBe(30_000_000);
  });
  it("refuses what is not a duration", () => {
    expect(parseDuration("30")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(parseDuration("5 minutes")).toBeUndefined();
  });
});

describe("changedFields", () => {
  it("compares structurally, ignoring key order and undefined", () => {
    expect(canonical({ b: 1, a: { d: 2, c: undefined } })).toBe(`{"a":{"d":2},"b":1}`);
    expect(changedFields({ env: { A: "1", B: "2" }, region: "fra" }, { env: { B: "2", A: "1" }, region: "ewr" }, ["env", "region"])).toEqual(["region"]);
  });
});
