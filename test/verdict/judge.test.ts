// The item-by-item verdicts. Two kinds of input: real results of this machine (test/fixtures/runs:
// two 5-repeat runs of L1, L6, V3, A4, M3, F1 on the same default kernel, recorded under load from
// other guests, with L1's race failing 3/5 and 2/5 and a starved L6 and M3 failing once), which must
// show no significant change; and hand-built samples (stated as such below) for changes a kernel of
// this machine cannot be made to show on demand.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { judge, failsComparison, type FigureItem, type OutcomeItem } from "../../harness/verdict/judge.ts";
import { collectSamples, outcomeClass } from "../../harness/verdict/samples.ts";
import type { CaseResult, Measurement, Outcome, RunResult } from "../../harness/report/model.ts";
import { makeCase, makeRun } from "../report/fixtures.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/runs/${name}.json`, import.meta.url), "utf8")) as RunResult;
const A = fixture("sid-7.2.13-noisy-repeat5-a");
const B = fixture("sid-7.2.13-noisy-repeat5-b");

/** Hand-built: one case with the given outcomes, each sample carrying the measurement values given. */
function samples(id: string, outcomes: Outcome[], m?: Omit<Measurement, "value"> & { values: number[] }): RunResult {
  const cases: CaseResult[] = outcomes.map((outcome, i) =>
    makeCase({ id, name: `case-${id}`, outcome, repeat: i, measurements: m && m.values[i] !== undefined ? [{ ...m, value: m.values[i] }] : [] }),
  );
  return makeRun(cases);
}
const judgeRuns = (a: RunResult[], b: RunResult[]) => judge(collectSamples(a), collectSamples(b));
const rep = <T>(x: T, n: number) => Array<T>(n).fill(x);

describe("recorded runs of one kernel (real, noisy)", () => {
  it("flag nothing between two runs of the same kernel", () => {
    const j = judgeRuns([A], [B]);
    expect(j.items.filter((i) => i.verdict === "significant")).toEqual([]);
    expect(j.items.some(failsComparison)).toBe(false);
    expect(j.tests).toBeGreaterThan(10);
  });

  it("call L1's race, failing in both runs, no change rather than a new failure", () => {
    const l1 = judgeRuns([A], [B]).items.find((i) => i.type === "outcome" && i.id === "L1") as OutcomeItem;
    expect(l1.baseline.bad).toBeGreaterThan(0);
    expect(l1.patched.bad).toBeGreaterThan(0);
    expect(l1.verdict).not.toBe("significant");
  });

  it("leave exact figures alone and never test a noisy one from fewer than 3 samples", () => {
    const items = judgeRuns([A], [B]).items.filter((i): i is FigureItem => i.type === "figure");
    const f1 = items.find((i) => i.id === "F1" && i.figure === "equal_frames")!;
    expect(f1).toMatchObject({ kind: "exact", verdict: "no change", note: "2048 pages in every sample" });
    for (const i of items.filter((x) => x.kind === "noisy" && Math.min(x.baseline.n, x.patched.n) < 3)) expect(i.p).toBeUndefined();
  });

  it("see one sample a side of a noisy figure as inconclusive at most, whatever it moved", () => {
    const one = (r: RunResult, k: number) => ({ ...r, cases: r.cases.filter((c) => (c.repeat ?? 0) === k) });
    for (let k = 0; k < 5; k++) {
      const j = judgeRuns([one(A, k)], [one(B, k)]);
      const noisy = j.items.filter((i) => i.type === "figure" && i.kind === "noisy");
      expect(noisy.every((i) => i.verdict !== "significant")).toBe(true);
    }
  });
});

describe("changes (hand-built samples)", () => {
  it("finds a new failure of 7 in 10 against 0 in 10 and fails the comparison", () => {
    const j = judgeRuns([samples("L1", rep("pass", 10))], [samples("L1", [...rep<Outcome>("fail", 7), ...rep<Outcome>("pass", 3)])]);
    const item = j.items[0] as OutcomeItem;
    expect(item).toMatchObject({ verdict: "significant", direction: "worse" });
    expect(item.p).toBeCloseTo(240 / 77520, 10);
    expect(failsComparison(item)).toBe(true);
  });

  it("does not decide pass vs fail from one sample a side", () => {
    const item = judgeRuns([samples("L1", ["pass"])], [samples("L1", ["fail"])]).items[0];
    expect(item.verdict).toBe("inconclusive");
    expect(failsComparison(item)).toBe(false);
  });

  it("counts xfail like fail and xpass like pass", () => {
    expect(["xfail", "fail", "error", "timeout"].map((o) => outcomeClass(o as Outcome))).toEqual(["bad", "bad", "bad", "bad"]);
    expect(outcomeClass("xpass")).toBe("good");
    const j = judgeRuns([samples("F1", rep("xfail", 5))], [samples("F1", rep("fail", 5))]);
    expect(j.items[0].verdict).toBe("no change");
  });

  it("calls a flaky case with the same rate on both sides no change once it has 5 samples a side", () => {
    const flaky = (n: number): Outcome[] => Array.from({ length: 10 }, (_, i) => (i < n ? "fail" : "pass"));
    expect(judgeRuns([samples("L2", flaky(7))], [samples("L2", flaky(5))]).items[0].verdict).toBe("no change");
  });

  it("takes one differing sample of an exact figure as a change; fails only when worse is declared", () => {
    const m = { name: "equal_frames", unit: "pages", kind: "exact" as const, better: "higher" as const };
    const j = judgeRuns([samples("F1", ["pass"], { ...m, values: [2048] })], [samples("F1", ["pass"], { ...m, values: [0] })]);
    const fig = j.items.find((i) => i.type === "figure")!;
    expect(fig).toMatchObject({ verdict: "significant", direction: "worse" });
    expect(failsComparison(fig)).toBe(true);
    const undeclared = { name: "seek", unit: "B", kind: "exact" as const };
    const k = judgeRuns([samples("D1", ["pass"], { ...undeclared, values: [4096] })], [samples("D1", ["pass"], { ...undeclared, values: [0] })]);
    expect(k.items[1]).toMatchObject({ verdict: "significant", direction: "changed" });
    expect(failsComparison(k.items[1])).toBe(false);
  });

  it("calls an exact figure that varies within a side inconclusive", () => {
    const m = { name: "resident", unit: "pages", kind: "exact" as const };
    const j = judgeRuns([samples("M3", rep("pass", 3), { ...m, values: [144, 208, 144] })], [samples("M3", rep("pass", 3), { ...m, values: [144, 144, 144] })]);
    expect(j.items[1].verdict).toBe("inconclusive");
  });

  it("finds a clear shift of a noisy figure with 10 samples a side, and only then", () => {
    const m = { name: "find_ms", unit: "ms" };
    const base = [100, 104, 98, 110, 95, 101, 99, 107, 103, 97];
    const slow = base.map((v) => v * 2);
    const j = judgeRuns([samples("V3", rep("pass", 10), { ...m, values: base })], [samples("V3", rep("pass", 10), { ...m, values: slow })]);
    expect(j.items[1]).toMatchObject({ type: "figure", kind: "noisy", kindDeclared: true, verdict: "significant", direction: "changed" });
    expect(failsComparison(j.items[1])).toBe(false); // noisy figures never fail a comparison
    const few = judgeRuns([samples("V3", ["pass"], { ...m, values: [100] })], [samples("V3", ["pass"], { ...m, values: [400] })]);
    expect(few.items[1].verdict).toBe("inconclusive");
  });

  it("applies Holm over every test: a p of 0.008 alone is significant, among 29 tests it is not", () => {
    const m = { name: "iterations", unit: "count", kind: "noisy" as const };
    const one = (vals: number[], id = "L6") => samples(id, rep("pass", 5), { ...m, values: vals });
    const alone = judgeRuns([one([1, 2, 3, 4, 5])], [one([11, 12, 13, 14, 15])]);
    expect(alone.items[1]).toMatchObject({ verdict: "significant" });
    const crowd = judgeRuns([one([1, 2, 3, 4, 5]), A], [one([11, 12, 13, 14, 15]), B]);
    const l6 = crowd.items.find((i) => i.type === "figure" && i.figure === "iterations" && i.id === "L6" && i.p !== undefined && i.p < 0.01)!;
    expect(l6.pAdjusted).toBeGreaterThan(0.05);
    expect(l6.verdict).toBe("inconclusive");
  });
});
