// Judges baseline vs patched samples item by item: each case's outcome (Fisher's exact test on
// bad/good counts) and each figure (exact: equal or not over all samples; noisy: Mann-Whitney U), with
// Holm's adjustment over every test of the comparison. Each item comes out significant, inconclusive
// or no change, with its counts, p-values and a "how sure" line.
import type { Outcome } from "../report/model.ts";
import { fisherExact, holm, mannWhitneyU, summarizeSample, type SampleSummary } from "./stats.ts";
import { outcomeClass, type CaseSamples, type FigureSamples } from "./samples.ts";

/** Family-wise error rate of a comparison: the chance that anything at all is flagged by noise. */
export const ALPHA = 0.05;
/** A raw p-value above this shows no hint of a change (with enough samples: see the rules below). */
export const NO_HINT_P = 0.2;
/** Outcomes: samples a side before "no change" may be said of a case whose outcome varies. */
export const MIN_OUTCOME_SAMPLES = 5;
/** Noisy figures: samples a side before any test (a one-sample figure is never flagged). */
export const MIN_NOISY_SAMPLES = 3;
/** Noisy figures: medians closer than this (relative) are no change whatever the test says. */
export const NEGLIGIBLE_CHANGE = 0.05;

export type Verdict = "significant" | "inconclusive" | "no change";
/** worse/better when the direction is known (outcomes; figures that declare `better`), else changed. */
export type Direction = "worse" | "better" | "changed";

export interface OutcomeCounts {
  bad: number;
  good: number;
  skipped: number;
  /** Outcome -> samples, as recorded. */
  outcomes: Partial<Record<Outcome, number>>;
}

interface ItemBase {
  id: string;
  caseName: string;
  verdict: Verdict;
  direction?: Direction;
  /** Raw and Holm-adjusted p-values, when the item was tested. */
  p?: number;
  pAdjusted?: number;
  /** How sure, in words: why this verdict. */
  note: string;
}

export interface OutcomeItem extends ItemBase {
  type: "outcome";
  baseline: OutcomeCounts;
  patched: OutcomeCounts;
}

export interface FigureItem extends ItemBase {
  type: "figure";
  figure: string;
  unit: string;
  kind: "exact" | "noisy";
  /** False when neither the figure nor its unit said (then it is treated as noisy). */
  kindDeclared: boolean;
  better?: "higher" | "lower";
  baseline: SampleSummary & { values: number[] };
  patched: SampleSummary & { values: number[] };
  /** Relative change of the medians, (patched - baseline) / |baseline|; undefined when baseline is 0. */
  change?: number;
}

export type Item = OutcomeItem | FigureItem;

function counts(outcomes: Outcome[]): OutcomeCounts {
  const c: OutcomeCounts = { bad: 0, good: 0, skipped: 0, outcomes: {} };
  for (const o of outcomes) {
    c.outcomes[o] = (c.outcomes[o] ?? 0) + 1;
    const k = outcomeClass(o);
    c[k === "skipped" ? "skipped" : k]++;
  }
  return c;
}

function judgeOutcome(id: string, caseName: string, a: Outcome[], b: Outcome[]): OutcomeItem {
  const base = { type: "outcome" as const, id, caseName, baseline: counts(a), patched: counts(b) };
  const [x, y] = [base.baseline, base.patched];
  const classes = new Set([...a, ...b].map(outcomeClass));
  if (classes.size === 1) return { ...base, verdict: "no change", note: `${[...classes][0]} in every sample` };
  const nx = x.bad + x.good;
  const ny = y.bad + y.good;
  if (nx === 0 || ny === 0) {
    return { ...base, verdict: "significant", direction: "changed", note: `skipped in every sample of the ${nx === 0 ? "baseline" : "patched kernel"}` };
  }
  const p = fisherExact(x.bad, x.good, y.bad, y.good);
  return { ...base, verdict: "inconclusive", p, direction: y.bad / ny > x.bad / nx ? "worse" : "better", note: "" };
}

function relChange(a: number, b: number): number | undefined {
  return a === 0 ? (b === 0 ? 0 : undefined) : (b - a) / Math.abs(a);
}

function direction(better: FigureSamples["better"], a: number, b: number): Direction {
  if (!better || a === b) return "changed";
  return (b > a) === (better === "higher") ? "better" : "worse";
}

function judgeFigure(id: string, caseName: string, fa: FigureSamples, fb: FigureSamples): FigureItem {
  const kind = fa.kind ?? fb.kind ?? "noisy";
  const baseline = { ...summarizeSample(fa.values), values: fa.values };
  const patched = { ...summarizeSample(fb.values), values: fb.values };
  const item: FigureItem = {
    type: "figure", id, caseName, figure: fa.key, unit: fa.unit, kind, kindDeclared: (fa.kind ?? fb.kind) !== undefined,
    better: fa.better ?? fb.better, baseline, patched, change: relChange(baseline.median, patched.median), verdict: "no change", note: "",
  };
  if (kind === "exact") {
    const constA = baseline.min === baseline.max;
    const constB = patched.min === patched.max;
    if (constA && constB && baseline.min === patched.min) return { ...item, note: `${baseline.min} ${fa.unit} in every sample` };
    if (constA && constB) {
      return { ...item, verdict: "significant", direction: direction(item.better, baseline.min, patched.min), note: `exact figure: ${baseline.min} in all ${baseline.n} baseline sample(s), ${patched.min} in all ${patched.n} patched` };
    }
    return { ...item, verdict: "inconclusive", note: `declared exact but varies within ${constA ? "the patched" : constB ? "the baseline" : "both"} side(s)` };
  }
  if (baseline.n < MIN_NOISY_SAMPLES || patched.n < MIN_NOISY_SAMPLES) {
    const small = item.change !== undefined && Math.abs(item.change) < NEGLIGIBLE_CHANGE;
    return { ...item, verdict: small ? "no change" : "inconclusive", note: `${Math.min(baseline.n, patched.n)} sample(s) on a side: not tested (needs ${MIN_NOISY_SAMPLES})` };
  }
  const { p } = mannWhitneyU(fa.values, fb.values);
  return { ...item, verdict: "inconclusive", p, direction: direction(item.better, baseline.median, patched.median), note: "" };
}

/** How sure, in words, from the adjusted p-value. */
function sureness(pAdj: number): string {
  if (pAdj <= 0.001) return "very sure";
  if (pAdj <= 0.01) return "sure";
  return "fairly sure";
}

const fmtP = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toPrecision(2));

/** Turn the raw p-values of tested items into verdicts, with Holm's adjustment over all of them. */
function decide(items: Item[]): void {
  const tested = items.filter((i) => i.p !== undefined);
  const adjusted = holm(tested.map((i) => i.p!));
  tested.forEach((item, k) => {
    const p = item.p!;
    item.pAdjusted = adjusted[k];
    const where = `p = ${fmtP(p)}, Holm-adjusted over ${tested.length} test(s) ${fmtP(adjusted[k])}`;
    if (adjusted[k] <= ALPHA) {
      item.verdict = "significant";
      item.note = `${sureness(adjusted[k])}: ${where}`;
    } else if (noChange(item, p)) {
      item.verdict = "no change";
      item.note = `no sign of a change: ${where}`;
    } else {
      item.verdict = "inconclusive";
      item.direction = undefined;
      item.note = p > NO_HINT_P ? `too few samples to tell: ${where}` : `a hint, not shown: ${where}; more samples decide it`;
    }
  });
}

function noChange(item: Item, p: number): boolean {
  if (item.type === "outcome") {
    const n = Math.min(item.baseline.bad + item.baseline.good, item.patched.bad + item.patched.good);
    return p > NO_HINT_P && n >= MIN_OUTCOME_SAMPLES;
  }
  return p > NO_HINT_P || (item.change !== undefined && Math.abs(item.change) < NEGLIGIBLE_CHANGE);
}

export interface Judgement {
  items: Item[];
  /** Cases present on one side only, and figures measured on one side only ("F1 equal_frames"). */
  oneSided: string[];
  /** Number of p-values the Holm adjustment covered. */
  tests: number;
}

/** Judge every case and figure present on both sides. */
export function judge(baseline: Map<string, CaseSamples>, patched: Map<string, CaseSamples>): Judgement {
  const items: Item[] = [];
  const oneSided: string[] = [];
  for (const id of new Set([...baseline.keys(), ...patched.keys()])) {
    const a = baseline.get(id);
    const b = patched.get(id);
    if (!a || !b) {
      oneSided.push(`${id} (${a ? "baseline" : "patched"} only)`);
      continue;
    }
    items.push(judgeOutcome(id, a.name, a.outcomes, b.outcomes));
    for (const key of new Set([...a.figures.keys(), ...b.figures.keys()])) {
      const fa = a.figures.get(key);
      const fb = b.figures.get(key);
      if (fa && fb) items.push(judgeFigure(id, a.name, fa, fb));
      else oneSided.push(`${id} ${key} (${fa ? "baseline" : "patched"} only)`);
    }
  }
  decide(items);
  return { items, oneSided, tests: items.filter((i) => i.p !== undefined).length };
}

/** Whether an item makes the comparison fail: a significant new failure, or an exact figure gone worse. */
export function failsComparison(item: Item): boolean {
  if (item.verdict !== "significant" || item.direction !== "worse") return false;
  return item.type === "outcome" || item.kind === "exact";
}
