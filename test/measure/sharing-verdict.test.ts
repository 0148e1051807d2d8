// The sharing probe's verdict from figures alone (no guest): each signal's thresholds at and just past
// their edges, the rule that two signals must agree and none contradict, frame counting, and the
// measurements and summary a probe reports.
import { describe, expect, it } from "vitest";
import {
  assessSharing,
  cachedSignal,
  combine,
  countEqualFrames,
  ratioSignal,
  type SharingFigures,
  type SharingSignals,
} from "../../harness/measure/sharing-verdict.ts";

const MiB = 1 << 20;

describe("ratioSignal (frames, residency)", () => {
  const cases: [number, number, string][] = [
    [256, 256, "shared"],
    [95, 100, "shared"], // exactly 95 %
    [94, 100, "unclear"], // just under
    [50, 100, "unclear"],
    [6, 100, "unclear"], // just over 5 %
    [5, 100, "separate"], // exactly 5 %
    [0, 256, "separate"],
    [0, 0, "unclear"], // no pages: no evidence either way
    [3, 0, "unclear"],
  ];
  it.each(cases)("%i of %i pages -> %s", (part, whole, signal) => {
    expect(ratioSignal(part, whole)).toBe(signal);
  });
});

describe("cachedSignal", () => {
  const size = 4 * MiB;
  const cases: [number, number, string][] = [
    [0, size, "shared"],
    [size / 4, size, "shared"], // exactly a quarter
    [size / 4 + 1, size, "unclear"],
    [size / 2, size, "unclear"],
    [(size * 3) / 4 - 1, size, "unclear"],
    [(size * 3) / 4, size, "separate"], // exactly three quarters
    [size, size, "separate"],
    [-50_000, size, "shared"], // Cached shrank a little (noise): nothing new was cached
    [0, 2 * MiB, "shared"], // the smallest size where Cached means something
    [2 * MiB, 2 * MiB, "separate"],
    [0, 2 * MiB - 1, "n/a"], // below it, TCG noise (~100 KiB) is too large a share
    [2 * MiB, 1 * MiB, "n/a"],
  ];
  it.each(cases)("growth %i B for a %i B file -> %s", (growth, sz, signal) => {
    expect(cachedSignal(growth, sz)).toBe(signal);
  });
});

describe("combine", () => {
  const S = "shared" as const;
  const X = "separate" as const;
  const U = "unclear" as const;
  const NA = "n/a" as const;
  const cases: [SharingSignals["frames"], SharingSignals["residency"], SharingSignals["cached"], string][] = [
    [S, S, S, "shared"],
    [S, S, NA, "shared"],
    [S, S, U, "shared"],
    [S, U, S, "shared"],
    [U, S, S, "shared"],
    [X, X, X, "separate"],
    [X, X, NA, "separate"],
    [X, U, X, "separate"],
    [U, X, X, "separate"],
    // Two agree but the third contradicts: no verdict.
    [S, S, X, "disagree"],
    [X, S, S, "disagree"],
    [X, X, S, "disagree"],
    [S, X, X, "disagree"],
    // One signal alone is never enough, whatever the others say.
    [S, U, U, "disagree"],
    [S, U, NA, "disagree"],
    [U, S, NA, "disagree"],
    [S, X, NA, "disagree"],
    [X, U, NA, "disagree"],
    [U, X, U, "disagree"],
    [U, U, X, "disagree"],
    [U, U, S, "disagree"],
    [U, U, U, "disagree"],
    [U, U, NA, "disagree"],
  ];
  it.each(cases)("frames %s, residency %s, cached %s -> %s", (frames, residency, cached, verdict) => {
    expect(combine({ frames, residency, cached })).toBe(verdict);
  });
});

describe("countEqualFrames", () => {
  const cases: [string, (number | null)[], (number | null)[], number][] = [
    ["identical frames", [10, 11, 12], [10, 11, 12], 3],
    ["different frames", [10, 11, 12], [20, 21, 22], 0],
    ["some equal", [10, 11, 12, 13], [10, 99, 12, 98], 2],
    ["pages not present (null) never count", [null, 11, null], [null, 11, null], 1],
    ["frame 0 (pagemap without CAP_SYS_ADMIN) never counts", [0, 0, 7], [0, 0, 7], 1],
    ["only the common length is compared", [1, 2, 3, 4], [1, 2], 2],
    ["B longer than A", [1, 2], [1, 2, 3, 4], 2],
    ["empty", [], [], 0],
  ];
  it.each(cases)("%s", (_what, a, b, n) => {
    expect(countEqualFrames(a, b)).toBe(n);
  });
});

describe("assessSharing", () => {
  const shared: SharingFigures = {
    pages: 1024,
    equalFrames: 1024,
    residentBAfterA: 1020,
    pagesB: 1024,
    cachedGrowthA: 4 * MiB,
    cachedGrowthB: 8192,
    size: 4 * MiB,
  };
  const separate: SharingFigures = { ...shared, equalFrames: 0, residentBAfterA: 0, cachedGrowthB: 4 * MiB };

  it("says shared for one shared page cache, with every figure as a measurement", () => {
    const r = assessSharing(shared, "pair");
    expect(r.verdict).toBe("shared");
    expect(r.signals).toEqual({ frames: "shared", residency: "shared", cached: "shared" });
    expect(r.measurements).toEqual([
      // Page counts are the same on every run of a correct kernel; Cached deltas vary under TCG.
      { name: "pair.pages", value: 1024, unit: "pages", kind: "exact" },
      { name: "pair.equal_frames", value: 1024, unit: "pages", kind: "exact" },
      { name: "pair.resident_b_after_reading_a", value: 1020, unit: "pages", kind: "exact" },
      { name: "pair.cached_growth_read_a", value: 4 * MiB, unit: "B", kind: "noisy" },
      { name: "pair.cached_growth_read_b", value: 8192, unit: "B", kind: "noisy" },
    ]);
    expect(r.summary).toBe(
      "shared: frames 1024/1024 equal (shared), B resident after reading A 1020/1024 (shared), " +
        "Cached +8 KiB reading B vs +4096 KiB reading A (shared)",
    );
  });

  it("says separate for two page caches; measurement names carry no prefix without a label", () => {
    const r = assessSharing(separate);
    expect(r.verdict).toBe("separate");
    expect(r.signals).toEqual({ frames: "separate", residency: "separate", cached: "separate" });
    expect(r.measurements.map((m) => m.name)).toEqual([
      "pages",
      "equal_frames",
      "resident_b_after_reading_a",
      "cached_growth_read_a",
      "cached_growth_read_b",
    ]);
    expect(r.summary).toMatch(/^separate: frames 0\/1024 equal \(separate\), B resident after reading A 0\/1024 \(separate\), /);
  });

  it("takes residency out of B's own page count, not A's", () => {
    // A has 1000 pages, B (the mount that never read) 2000 of which 1000 are resident: half, unclear.
    const r = assessSharing({ ...shared, pages: 1000, equalFrames: 1000, residentBAfterA: 1000, pagesB: 2000 });
    expect(r.signals.residency).toBe("unclear");
    expect(r.summary).toContain("B resident after reading A 1000/2000 (unclear)");
  });

  it("judges Cached by what reading B added, not by what reading A added", () => {
    const r = assessSharing({ ...separate, cachedGrowthA: 0 }); // B still grew by the whole size
    expect(r.signals.cached).toBe("separate");
    const s = assessSharing({ ...shared, cachedGrowthA: 0, cachedGrowthB: 4 * MiB });
    expect(s.signals.cached).toBe("separate");
    expect(s.verdict).toBe("disagree"); // frames and residency say shared, Cached contradicts
  });

  it("leaves Cached out for small files and then needs frames and residency to agree", () => {
    const small = { ...shared, size: 64 * 1024, pages: 16, equalFrames: 16, residentBAfterA: 16, pagesB: 16, cachedGrowthB: 64 * 1024 };
    const r = assessSharing(small);
    expect(r.signals.cached).toBe("n/a");
    expect(r.verdict).toBe("shared");
    expect(r.summary).toContain("(n/a)");
    expect(assessSharing({ ...small, residentBAfterA: 0 }).verdict).toBe("disagree");
  });

  it("rounds Cached growth to whole KiB in the summary", () => {
    const r = assessSharing({ ...shared, cachedGrowthA: 1536 + 4 * MiB, cachedGrowthB: 1500 });
    expect(r.summary).toContain("Cached +1 KiB reading B vs +4098 KiB reading A");
  });
});
