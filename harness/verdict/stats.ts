// The statistical tests a kernel comparison rests on: Fisher's exact test on outcome counts, the
// Mann-Whitney U test on samples of a noisy figure, Holm's adjustment over a comparison's tests, and
// the summary (median, quartiles) that goes with a sample. Pure functions; simple-statistics supplies
// the log-gamma, median and quantiles.
import { gammaln, median, quantile } from "simple-statistics";

/** Relative tolerance when comparing the probabilities of two tables (as R and SciPy do). */
const REL_TOL = 1 + 1e-7;

/** ln C(n, k) */
function lnChoose(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/**
 * Hypergeometric probability P(X = k): k successes in n draws without replacement from a population
 * of `population` items of which `successes` are successes.
 */
export function hypergeometricPmf(k: number, population: number, successes: number, n: number): number {
  if (k < Math.max(0, n - (population - successes)) || k > Math.min(n, successes)) return 0;
  return Math.exp(lnChoose(successes, k) + lnChoose(population - successes, n - k) - lnChoose(population, n));
}

/**
 * Two-sided Fisher exact test of the 2x2 table [[a, b], [c, d]] (rows: the two sides; columns: e.g.
 * failed, passed): the probability, with the margins fixed, of a table at most as likely as the one
 * seen. Same convention as R's fisher.test and SciPy's fisher_exact.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const n = a + b + c + d;
  const row1 = a + b;
  const col1 = a + c;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: equivalent, a shortcut: with an empty row or column only one table is possible and the sum below gives 1 too (tested)
  if (n === 0 || row1 === 0 || row1 === n || col1 === 0 || col1 === n) return 1;
  const seen = hypergeometricPmf(a, n, col1, row1);
  let p = 0;
  // Stryker disable next-line MethodExpression,ArithmeticOperator: equivalent, tables outside the support have probability 0 (hypergeometricPmf)
  for (let k = Math.max(0, row1 - (n - col1)); k <= Math.min(row1, col1); k++) {
    const pk = hypergeometricPmf(k, n, col1, row1);
    // Stryker disable next-line EqualityOperator: equivalent, pk equals seen * REL_TOL exactly for no table
    if (pk <= seen * REL_TOL) p += pk;
  }
  return Math.min(1, p);
}

/** Ranks of `values` (1-based), ties getting the mean of the ranks they span. */
export function midranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  // Stryker disable next-line ArrayDeclaration: equivalent, every index is assigned below
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

export interface MannWhitney {
  /** U of the first sample: pairs (x, y) with x > y, plus half the ties. */
  u: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Two-sided Mann-Whitney U (Wilcoxon rank-sum) test of samples x and y, exact: over all C(n, |x|)
 * ways of splitting the pooled ranks (midranks for ties), twice the smaller tail share of rank sums
 * at least / at most the one seen. Without ties this is SciPy's mannwhitneyu(method="exact"); with
 * ties, SciPy's exact permutation_test of the U statistic.
 */
export function mannWhitneyU(x: number[], y: number[]): MannWhitney {
  const n1 = x.length;
  const n = n1 + y.length;
  if (n1 === 0 || y.length === 0) throw new Error("mannWhitneyU needs at least one value on each side");
  // Doubled midranks are integers, so rank sums can index an array.
  const ranks2 = midranks([...x, ...y]).map((r) => Math.round(2 * r));
  const seen2 = ranks2.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = seen2 / 2 - (n1 * (n1 + 1)) / 2;
  const total2 = ranks2.reduce((s, r) => s + r, 0);
  // ways[j][s]: how many j-element subsets of the ranks so far have doubled rank sum s.
  // Stryker disable next-line ArithmeticOperator: equivalent for the shorter array too, a subset of fewer than all ranks sums to at most total2 - 2
  const ways = Array.from({ length: n1 + 1 }, () => new Float64Array(total2 + 1));
  ways[0][0] = 1;
  for (const r of ranks2) {
    for (let j = Math.min(n1, n) - 1; j >= 0; j--) {
      const from = ways[j];
      const to = ways[j + 1];
      // Stryker disable next-line ArithmeticOperator,ConditionalExpression: equivalent, reads past the array are undefined and adding a zero count changes nothing
      for (let s = total2 - r; s >= 0; s--) if (from[s]) to[s + r] += from[s];
    }
  }
  let atLeast = 0;
  let atMost = 0;
  let all = 0;
  ways[n1].forEach((w, s) => {
    all += w;
    if (s >= seen2) atLeast += w;
    if (s <= seen2) atMost += w;
  });
  return { u, p: Math.min(1, (2 * Math.min(atLeast, atMost)) / all) };
}

/**
 * Holm's step-down adjustment: adjusted p-values (same order as given) that keep the chance of any
 * false "significant" among all of them at most alpha when each is compared with alpha.
 */
export function holm(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  // Stryker disable next-line ArrayDeclaration: equivalent, every index is assigned below
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface SampleSummary {
  n: number;
  median: number;
  /** First and third quartile. */
  q1: number;
  q3: number;
  min: number;
  max: number;
}

export function summarizeSample(values: number[]): SampleSummary {
  if (values.length === 0) throw new Error("summarizeSample needs at least one value");
  return {
    n: values.length,
    median: median(values),
    q1: quantile(values, 0.25),
    q3: quantile(values, 0.75),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}
