// Adaptive repetition: which cases run again after a round and how often, on the recorded runs of
// this machine (test/fixtures/runs) cut down to one sample a side.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { caseDurations, MAX_ROUND_REPEAT, planRound, undecidedCases } from "../../harness/verdict/plan.ts";
import { compareSamples } from "../../harness/report/compare.ts";
import type { RunResult } from "../../harness/report/model.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/runs/${name}.json`, import.meta.url), "utf8")) as RunResult;
const first = (r: RunResult): RunResult => ({ ...r, cases: r.cases.filter((c) => (c.repeat ?? 0) === 0).map((c) => ({ ...c, repeat: undefined })) });
const A1 = first(fixture("sid-7.2.13-noisy-repeat5-a"));
const B1 = first(fixture("sid-7.2.13-noisy-repeat5-b"));
const cmp = compareSamples({ runs: [A1], files: ["a"] }, { runs: [B1], files: ["b"] });

describe("planRound", () => {
  it("runs again the cases whose noisy figures moved, not those with nothing left to decide", () => {
    const again = undecidedCases(cmp);
    for (const id of ["L6", "A4", "V3"]) expect(again).toContain(id); // noisy figures, one sample each
    expect(again).not.toContain("L1"); // failed in one run, timed out in the other: bad both times, no figures
  });

  it("doubles the samples within the budget and stops when not even one repetition fits", () => {
    const runs = [A1, B1];
    const plan = planRound(cmp, runs, 1, 60 * 60_000, 10_000)!;
    expect(plan.repeat).toBe(2);
    expect(planRound(cmp, runs, 6, 60 * 60_000, 10_000)!.repeat).toBe(6);
    expect(planRound(cmp, runs, 50, 60 * 60_000, 10_000)!.repeat).toBe(MAX_ROUND_REPEAT);
    const perRepeat = plan.cases.reduce((s, id) => s + caseDurations(runs).get(id)!, 0);
    const tight = planRound(cmp, runs, 4, 2 * (10_000 + 1.5 * perRepeat), 10_000)!;
    expect(tight.repeat).toBe(1);
    expect(planRound(cmp, runs, 4, 2 * 10_000, 10_000)).toBeUndefined();
  });

  it("has nothing to plan when everything is decided", () => {
    const same = compareSamples({ runs: [A1], files: ["a"] }, { runs: [A1], files: ["a"] });
    expect(undecidedCases(same)).toEqual([]);
    expect(planRound(same, [A1], 1, 60 * 60_000, 10_000)).toBeUndefined();
  });
});
