// Gathers one side of a comparison: every result of a case across the results files of that side
// (each file may hold several repetitions) becomes one sample of its outcome and of each figure.
import type { CaseResult, Measurement, MeasurementKind, Outcome, RunResult } from "../report/model.ts";
import { measurementKind } from "../report/model.ts";

/** How an outcome counts in a comparison: xfail like fail, xpass like pass, skip not at all. */
export type OutcomeClass = "bad" | "good" | "skipped";

export function outcomeClass(o: Outcome | "missing"): OutcomeClass {
  if (o === "pass" || o === "xpass") return "good";
  if (o === "skip") return "skipped";
  return "bad"; // fail, error, timeout, xfail, missing
}

export interface FigureSamples {
  /** name[series]@x */
  key: string;
  unit: string;
  /** undefined: neither declared nor implied by the unit (treated as noisy). */
  kind?: MeasurementKind;
  better?: "higher" | "lower";
  values: number[];
}

export interface CaseSamples {
  id: string;
  name: string;
  outcomes: Outcome[];
  figures: Map<string, FigureSamples>;
  /** Host wall time per sample, ms (for planning repetitions). */
  durationsMs: number[];
}

export function figureKey(m: Measurement): string {
  return `${m.name}${m.series ? `[${m.series}]` : ""}${m.x !== undefined ? `@${m.x}` : ""}`;
}

function addCase(side: Map<string, CaseSamples>, c: CaseResult): void {
  const s: CaseSamples = side.get(c.id) ?? { id: c.id, name: c.name, outcomes: [], figures: new Map(), durationsMs: [] };
  s.outcomes.push(c.outcome);
  s.durationsMs.push(c.durationMs);
  for (const m of c.measurements) {
    const key = figureKey(m);
    const f = s.figures.get(key) ?? { key, unit: m.unit, kind: measurementKind(m), better: m.better, values: [] };
    if (f.unit !== m.unit) continue; // a unit that changed between runs is not the same figure
    f.values.push(m.value);
    s.figures.set(key, f);
  }
  side.set(c.id, s);
}

/** All samples of one side, by case id, in the order cases first appear. */
export function collectSamples(runs: RunResult[]): Map<string, CaseSamples> {
  const side = new Map<string, CaseSamples>();
  for (const run of runs) for (const c of run.cases) addCase(side, c);
  return side;
}

/** "debian:sid 7.2.13" for one kernel; the distinct labels joined when a side mixes kernels. */
export function sideLabel(runs: RunResult[]): string {
  return [...new Set(runs.map((r) => `${r.kernel.source} ${r.kernel.release}`))].join(" + ");
}
