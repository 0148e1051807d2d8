// Adaptive repetition: after each round of a comparison, which cases to run again (those with an
// item not yet decided) and how many times, so that the next round fits the time left.
import type { Comparison } from "../report/compare.ts";
import type { RunResult } from "../report/model.ts";

/** At most this many repetitions a round (a round per side boots one guest and runs them in it). */
export const MAX_ROUND_REPEAT = 8;

export interface RoundPlan {
  /** Case ids to run again on both kernels. */
  cases: string[];
  repeat: number;
  /** Expected wall time of the round on both sides, ms. */
  estimateMs: number;
}

/** Case ids with an inconclusive item, in first-seen order. */
export function undecidedCases(c: Comparison): string[] {
  return [...new Set(c.inconclusive.map((i) => i.id))];
}

/** Mean host wall time of one sample of each case over every run given, ms. */
export function caseDurations(runs: RunResult[]): Map<string, number> {
  const sum = new Map<string, { ms: number; n: number }>();
  for (const r of runs) {
    for (const c of r.cases) {
      const s = sum.get(c.id) ?? { ms: 0, n: 0 };
      s.ms += c.durationMs;
      s.n++;
      sum.set(c.id, s);
    }
  }
  return new Map([...sum].map(([id, s]) => [id, s.ms / s.n]));
}

/**
 * The next round: the undecided cases, repeated as often as the samples a side so far (doubling
 * them; at least 2, at most MAX_ROUND_REPEAT), fewer when that would not fit `remainingMs`. Undefined
 * when nothing is undecided or not even one repetition fits. `overheadMs` is the fixed cost of a
 * round per side (guest boot, image checks).
 */
export function planRound(c: Comparison, runs: RunResult[], samplesPerSide: number, remainingMs: number, overheadMs: number): RoundPlan | undefined {
  const cases = undecidedCases(c);
  if (!cases.length) return undefined;
  const durations = caseDurations(runs);
  const oneRepeat = cases.reduce((s, id) => s + (durations.get(id) ?? 60_000), 0);
  const estimate = (repeat: number) => 2 * (overheadMs + repeat * oneRepeat);
  let repeat = Math.min(MAX_ROUND_REPEAT, Math.max(2, samplesPerSide));
  while (repeat > 1 && estimate(repeat) > remainingMs) repeat--;
  if (estimate(repeat) > remainingMs) return undefined;
  return { cases, repeat, estimateMs: estimate(repeat) };
}
