// The statistical tests against published values: R's fisher.test and SciPy's fisher_exact,
// SciPy's mannwhitneyu documentation example, and R's p.adjust(method = "holm").
import { describe, expect, it } from "vitest";
import { fisherExact, holm, hypergeometricPmf, mannWhitneyU, midranks, summarizeSample } from "../../harness/verdict/stats.ts";

describe("hypergeometricPmf", () => {
  it("sums to 1 and matches a hand count", () => {
    // 13 items, 7 successes, 8 draws: C(7,6) C(6,2) / C(13,8) = 7 * 15 / 1287
    expect(hypergeometricPmf(6, 13, 7, 8)).toBeCloseTo(105 / 1287, 12);
    let total = 0;
    for (let k = 0; k <= 8; k++) total += hypergeometricPmf(k, 13, 7, 8);
    expect(total).toBeCloseTo(1, 12);
    expect(hypergeometricPmf(9, 13, 7, 8)).toBe(0);
  });
});

describe("fisherExact (two-sided)", () => {
  it("matches SciPy's fisher_exact documentation example [[6, 2], [1, 4]]", () => {
    // scipy.stats.fisher_exact([[6, 2], [1, 4]]).pvalue == 0.10256410256410257
    expect(fisherExact(6, 2, 1, 4)).toBeCloseTo(0.10256410256410257, 12);
  });

  it("matches R's fisher.test on the tea-tasting table [[3, 1], [1, 3]]", () => {
    // fisher.test(matrix(c(3, 1, 1, 3), nrow = 2))$p.value == 0.4857143 (= 34/70)
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(34 / 70, 12);
  });

  it("gives the flip counts of a racy case their weight", () => {
    // 7 of 10 failing vs 0 of 10: only a = 7 and its mirror a = 0 are as unlikely: 2 * C(10,7) / C(20,7) = 240 / 77520
    expect(fisherExact(7, 3, 0, 10)).toBeCloseTo(0.0030959752321981426, 12);
    // all fail vs all pass, 10 a side: 2 / C(20,10)
    expect(fisherExact(10, 0, 0, 10)).toBeCloseTo(2 / 184756, 15);
    expect(fisherExact(3, 7, 4, 6)).toBe(1);
    expect(fisherExact(0, 5, 0, 5)).toBe(1);
  });
});

describe("mannWhitneyU (two-sided, exact)", () => {
  it("matches SciPy's mannwhitneyu documentation example", () => {
    // mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12], method="exact") -> U = 17, p = 0.1111111111111111
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.u).toBe(17);
    expect(r.p).toBeCloseTo(0.1111111111111111, 12);
  });

  it("gives complete separation of 3 vs 3 and 5 vs 5 its smallest p, 2/C(n,k)", () => {
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6]).p).toBeCloseTo(2 / 20, 12);
    expect(mannWhitneyU([10, 11, 12, 13, 14], [1, 2, 3, 4, 5]).p).toBeCloseTo(2 / 252, 12);
  });

  it("handles ties with midranks: identical samples have p = 1", () => {
    expect(midranks([5, 1, 5, 3])).toEqual([3.5, 1, 3.5, 2]);
    expect(mannWhitneyU([1, 1, 1], [1, 1, 1]).p).toBe(1);
    expect(mannWhitneyU([2, 2, 3], [2, 3, 3]).p).toBe(1);
    // scipy.stats.permutation_test(([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6]), U statistic,
    //   permutation_type="independent", n_resamples=np.inf).pvalue == 0.17316017316017315 (SciPy 1.17.1)
    const r = mannWhitneyU([1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6]);
    expect(r.u).toBe(7);
    expect(r.p).toBeCloseTo(0.17316017316017315, 12);
  });
});

describe("holm", () => {
  it("matches R's p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm')", () => {
    // R: 0.03 0.06 0.06 0.02
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 12));
  });

  it("caps at 1 and leaves a single test alone", () => {
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
    expect(holm([0.03])).toEqual([0.03]);
  });
});

describe("summarizeSample", () => {
  it("gives median, quartiles and range", () => {
    expect(summarizeSample([5, 1, 3, 2, 4])).toEqual({ n: 5, median: 3, q1: 2, q3: 4, min: 1, max: 5 });
  });
});

describe("edges", () => {
  it("hypergeometricPmf is exactly 0 outside the support", () => {
    expect(hypergeometricPmf(4, 10, 3, 4)).toBe(0); // more successes drawn than exist
    expect(hypergeometricPmf(5, 10, 8, 4)).toBe(0); // more drawn than n
    expect(hypergeometricPmf(1, 10, 8, 4)).toBe(0); // fewer than the 2 that must be successes
    expect(hypergeometricPmf(2, 10, 8, 4)).toBeGreaterThan(0);
  });
  it("fisherExact gives 1 for tables with an empty row or column", () => {
    for (const t of [[0, 0, 0, 0], [3, 4, 0, 0], [0, 0, 3, 4], [0, 3, 0, 4], [3, 0, 4, 0]]) expect(fisherExact(t[0], t[1], t[2], t[3])).toBe(1);
  });
  it("mannWhitneyU and summarizeSample refuse an empty sample", () => {
    expect(() => mannWhitneyU([], [1, 2])).toThrow(/mannWhitneyU needs at least one value on each side/);
    expect(() => mannWhitneyU([1, 2], [])).toThrow(/mannWhitneyU needs at least one value on each side/);
    expect(() => summarizeSample([])).toThrow(/summarizeSample needs at least one value/);
  });
});
