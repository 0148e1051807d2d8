// The sharing probe's verdict from its figures alone (no guest): three independent signals, each with
// its own verdict, and the combination that needs two to agree and none to contradict.
//  - frames:    identical page frames of MAP_SHARED mmaps of A and B (/proc/self/pagemap);
//  - residency: after reading A only, how much of B is resident (mincore through the mount that never read);
//  - cached:    how much Cached grows when B is read after A (~0 when shared, ~size when not).
import type { Measurement } from "../report/model.ts";

export type Signal = "shared" | "separate" | "unclear";
export type SharingVerdict = "shared" | "separate" | "disagree";
export type SharingSignals = { frames: Signal; residency: Signal; cached: Signal | "n/a" };

/** What the guest measured (probeSharing in sharing.ts gathers these). */
export interface SharingFigures {
  /** Pages of A's mapping, and how many of them had the same (non-zero) frame in B's. */
  pages: number;
  equalFrames: number;
  /** B's pages resident after reading A only, out of B's pages. */
  residentBAfterA: number;
  pagesB: number;
  /** Growth of Cached while reading A, then while reading B, bytes. */
  cachedGrowthA: number;
  cachedGrowthB: number;
  /** Size of A in bytes. */
  size: number;
}

export interface SharingAssessment {
  verdict: SharingVerdict;
  signals: SharingSignals;
  measurements: Measurement[];
  summary: string;
}

/** Thresholds: a signal says "shared" at >= 95 % agreement and "separate" at <= 5 %. */
const HIGH = 0.95;
const LOW = 0.05;
/** Cached growth is meaningful only for files this large (noise is about +-100 KiB under TCG). */
const CACHED_SIGNAL_MIN_BYTES = 2 << 20;

/** Frames or residency: `part` of `whole` pages agree. No pages at all says nothing. */
export function ratioSignal(part: number, whole: number): Signal {
  if (whole === 0) return "unclear";
  const r = part / whole;
  return r >= HIGH ? "shared" : r <= LOW ? "separate" : "unclear";
}

/** Cached growth reading B after A: at most a quarter of the size is shared, at least three quarters separate. */
export function cachedSignal(growthB: number, size: number): Signal | "n/a" {
  if (size < CACHED_SIGNAL_MIN_BYTES) return "n/a";
  const r = growthB / size;
  return r <= 0.25 ? "shared" : r >= 0.75 ? "separate" : "unclear";
}

/** Two signals must agree and none contradict; otherwise "disagree". "n/a" takes no part. */
export function combine(signals: SharingSignals): SharingVerdict {
  // Stryker disable next-line MethodExpression,ConditionalExpression,StringLiteral: equivalent, "n/a" counts as neither shared nor separate; the filter only says it takes no part
  const all = [signals.frames, signals.residency, signals.cached].filter((s) => s !== "n/a");
  const shared = all.filter((s) => s === "shared").length;
  const separate = all.filter((s) => s === "separate").length;
  if (shared >= 2 && separate === 0) return "shared";
  if (separate >= 2 && shared === 0) return "separate";
  return "disagree";
}

/** Pages whose frame is known (not null, not 0) and the same in both mappings, index by index. */
export function countEqualFrames(a: readonly (number | null)[], b: readonly (number | null)[]): number {
  let equal = 0;
  // Stryker disable next-line MethodExpression: equivalent, past the shorter array one side is undefined and never equals a frame
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== null && a[i] !== 0 && a[i] === b[i]) equal++;
  }
  return equal;
}

/** Signals, verdict, measurements (names prefixed with `label.` when given) and a one-line summary. */
export function assessSharing(f: SharingFigures, label = ""): SharingAssessment {
  const signals: SharingSignals = {
    frames: ratioSignal(f.equalFrames, f.pages),
    residency: ratioSignal(f.residentBAfterA, f.pagesB),
    cached: cachedSignal(f.cachedGrowthB, f.size),
  };
  const verdict = combine(signals);
  const p = label ? `${label}.` : "";
  const measurements: Measurement[] = [
    { name: `${p}pages`, value: f.pages, unit: "pages", kind: "exact" },
    { name: `${p}equal_frames`, value: f.equalFrames, unit: "pages", kind: "exact" },
    { name: `${p}resident_b_after_reading_a`, value: f.residentBAfterA, unit: "pages", kind: "exact" },
    { name: `${p}cached_growth_read_a`, value: f.cachedGrowthA, unit: "B", kind: "noisy" },
    { name: `${p}cached_growth_read_b`, value: f.cachedGrowthB, unit: "B", kind: "noisy" },
  ];
  const summary =
    `${verdict}: frames ${f.equalFrames}/${f.pages} equal (${signals.frames}), ` +
    `B resident after reading A ${f.residentBAfterA}/${f.pagesB} (${signals.residency}), ` +
    `Cached +${kib(f.cachedGrowthB)} KiB reading B vs +${kib(f.cachedGrowthA)} KiB reading A (${signals.cached})`;
  return { verdict, signals, measurements, summary };
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}
