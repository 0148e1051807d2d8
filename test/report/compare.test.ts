// Baseline vs patched comparison: outcome changes sorted into new failures / fixed / other, and
// measurement deltas reported only beyond the unit's tolerance. (Hand-built results: this is the
// comparison's own unit test; the runs it compares in use come from real kernels.)
import { describe, expect, it } from "vitest";
import { compareRuns, beyondTolerance, formatComparison } from "../../harness/report/compare.ts";
import type { RunResult, CaseResult } from "../../harness/report/model.ts";

function c(id: string, outcome: CaseResult["outcome"], measurements: CaseResult["measurements"] = []): CaseResult {
  return { id, name: `case-${id.toLowerCase()}`, groups: [id[0]], tags: [], outcome, durationMs: 1, checks: [], measurements, crashes: [], findings: [], artifacts: {} };
}

function run(release: string, cases: CaseResult[]): RunResult {
  return {
    schema: "pcshare-results/1",
    startedAt: "",
    finishedAt: "",
    host: { hostname: "h", accel: "tcg", cpus: 2, qemu: "q", node: "v20" },
    kernel: { source: "tree:linux", release, version: release, hashes: {}, config: {} },
    tools: {},
    cases,
  };
}

describe("compareRuns", () => {
  const before = run("7.2.13", [
    c("F1", "pass", [{ name: "equal_frames", value: 2048, unit: "pages" }, { name: "cached_growth_read_b", value: 40_000, unit: "B" }]),
    c("F2", "fail"),
    c("I3", "pass"),
    c("O3", "skip"),
  ]);
  const after = run("7.2.13+series", [
    c("F1", "fail", [{ name: "equal_frames", value: 0, unit: "pages" }, { name: "cached_growth_read_b", value: 120_000, unit: "B" }]),
    c("F2", "pass"),
    c("I3", "pass"),
    c("O3", "pass"),
  ]);
  const cmp = compareRuns(before, after);

  it("sorts outcome changes", () => {
    expect(cmp.newFailures.map((x) => x.id)).toEqual(["F1"]);
    expect(cmp.fixed.map((x) => x.id)).toEqual(["F2"]);
    expect(cmp.otherChanges.map((x) => `${x.id}:${x.before}->${x.after}`)).toEqual(["O3:skip->pass"]);
  });

  it("reports page deltas but not Cached noise under 256 KiB", () => {
    expect(cmp.measurementDeltas.map((d) => d.name)).toEqual(["equal_frames"]);
    expect(cmp.measurementDeltas[0]).toMatchObject({ before: 2048, after: 0, delta: -2048 });
  });

  it("formats a readable summary", () => {
    const text = formatComparison(cmp);
    expect(text).toContain("new failures: 1\n  F1 case-f1: pass -> fail");
    expect(text).toContain("equal_frames: 2048 -> 0 pages (-2048)");
  });
});

describe("beyondTolerance", () => {
  it("uses ratios for timings", () => {
    expect(beyondTolerance("ms", 100, 140)).toBe(false);
    expect(beyondTolerance("ms", 100, 160)).toBe(true);
  });
  it("uses a floor for bytes", () => {
    expect(beyondTolerance("B", 8 << 20, (8 << 20) + 200_000)).toBe(false);
    expect(beyondTolerance("B", 0, 8 << 20)).toBe(true);
  });
});
