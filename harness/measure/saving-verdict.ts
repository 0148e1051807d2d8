// From measured and ideal figures to the checks, measurements and outcome of a saving measurement:
// what a correct kernel does when N trees are read through sharing mounts of one domain. Shared by
// `pcshare measure` and case M5. A correct kernel gives every file its own bytes, maps a duplicate's
// pages to its first copy's frames (and never with plain mounts), and saves at least MIN_RATIO of
// what the content hashes allow; plain mounts must cache about every page (else nothing was measured).
import type { Check, Measurement, Outcome } from "../report/model.ts";
import type { Duplicate, Ideal } from "./ideal.ts";
import { showPath, type Mode, type ModeResult } from "./saving.ts";
import { savingPct } from "./ideal.ts";

/** The measured saving must reach this share of the ideal one (the cover letter's "read all" claim). */
export const MIN_RATIO = 0.8;
/** Plain mounts must cache at least this share of the ideal plain total. */
const PLAIN_PRECONDITION = 0.75;
/** An ideal saving below this (%) is too small to compare against Cached noise. */
const MIN_IDEAL_PCT = 1;

export interface SavingAssessment {
  outcome: Outcome;
  reason?: string;
  checks: Check[];
  measurements: Measurement[];
  measuredPct: number;
  idealPct: number;
}

export function assessSaving(ideal: Ideal, measured: Record<Mode, ModeResult>): SavingAssessment {
  const checks: Check[] = [];
  const asserts: Check[] = [];
  const { shared, plain } = measured;
  const pre = plain.total >= PLAIN_PRECONDITION * ideal.total.plain;
  asserts.push({ name: "plain mounts cache about every page read (precondition)", ok: pre, expected: `>= ${Math.round(PLAIN_PRECONDITION * ideal.total.plain)} B`, seen: `${plain.total} B` });
  for (const mode of ["shared", "plain"] as const) {
    const r = measured[mode];
    checks.push({
      name: `${mode}: every file read has its source's bytes`,
      ok: r.wrong.length === 0 && r.read > 0,
      expected: `${r.read} files, all equal`,
      seen: `${r.wrong.length} wrong or unreadable${r.wrong.length ? `: ${r.wrong.slice(0, 3).map((w) => `${w.label}:${showPath(w.path)} read as ${w.seen.slice(0, 200)}`).join("; ")}` : ""}`,
    });
  }
  const fs = frameTotals(shared);
  const fp = frameTotals(plain);
  if (fs.files) checks.push({ name: `shared: ${fs.files} sampled duplicate files map their first copy's frames`, ok: fs.equal === fs.pages, expected: `${fs.pages} equal frames`, seen: `${fs.equal}` });
  if (fp.files) checks.push({ name: `plain: the same ${fp.files} files map frames of their own`, ok: fp.equal === 0, expected: "0 equal frames", seen: `${fp.equal}` });
  const measuredPct = savingPct(plain.total, shared.total);
  const idealPct = ideal.savingPct;
  if (idealPct >= MIN_IDEAL_PCT) {
    checks.push({
      name: `the measured saving is at least ${MIN_RATIO * 100} % of the ideal`,
      ok: measuredPct >= MIN_RATIO * idealPct,
      expected: `>= ${(MIN_RATIO * idealPct).toFixed(1)} % (ideal ${idealPct.toFixed(1)} %)`,
      seen: `${measuredPct.toFixed(1)} %`,
    });
  }
  const measurements = savingMeasurements(ideal, measured, measuredPct);
  const failedAssert = asserts.find((c) => !c.ok);
  const failed = checks.find((c) => !c.ok);
  const outcome: Outcome = failedAssert ? "error" : failed ? "fail" : "pass";
  const reason = failedAssert ? `${failedAssert.name}: expected ${failedAssert.expected}, seen ${failedAssert.seen}` : failed ? `${failed.name}: expected ${failed.expected}, seen ${failed.seen}` : undefined;
  return { outcome, ...(reason && { reason }), checks: [...asserts, ...checks], measurements, measuredPct, idealPct };
}

export function frameTotals(r: ModeResult): { files: number; pages: number; equal: number } {
  return { files: r.frames.length, pages: r.frames.reduce((s, f) => s + f.pages, 0), equal: r.frames.reduce((s, f) => s + f.equal, 0) };
}

function savingMeasurements(ideal: Ideal, m: Record<Mode, ModeResult>, measuredPct: number): Measurement[] {
  const out: Measurement[] = [];
  const bar = (label: string, plain: number, shared: number, idealShared: number) => {
    out.push({ name: `cached.${label}`, value: plain, unit: "B", kind: "noisy", series: "plain" });
    out.push({ name: `cached.${label}`, value: shared, unit: "B", kind: "noisy", series: "shared", better: "lower" });
    out.push({ name: `cached.${label}`, value: idealShared, unit: "B", kind: "exact", series: "ideal" });
  };
  ideal.sources.forEach((s, i) => bar(s.label, m.plain.growth[i], m.shared.growth[i], s.shared));
  bar("total", m.plain.total, m.shared.total, ideal.total.shared);
  for (const s of ideal.sources) {
    out.push({ name: `${s.label}.files`, value: s.files, unit: "count", kind: "exact" });
    out.push({ name: `${s.label}.bytes`, value: s.bytes, unit: "B", kind: "exact" });
    out.push({ name: `${s.label}.ideal_plain`, value: s.plain, unit: "B", kind: "exact" });
  }
  out.push({ name: "ideal_plain_total", value: ideal.total.plain, unit: "B", kind: "exact" });
  out.push({ name: "saving_ideal_pct", value: ideal.savingPct, unit: "%", kind: "exact" });
  out.push({ name: "saving_measured_pct", value: measuredPct, unit: "%", kind: "noisy", better: "higher" });
  if (ideal.savingPct > 0) out.push({ name: "measured_vs_ideal_pct", value: (100 * measuredPct) / ideal.savingPct, unit: "%", kind: "noisy", better: "higher" });
  for (const mode of ["shared", "plain"] as const) {
    const f = frameTotals(m[mode]);
    out.push({ name: `${mode}.files_read`, value: m[mode].read, unit: "count", kind: "exact" });
    out.push({ name: `${mode}.files_wrong`, value: m[mode].wrong.length, unit: "count", kind: "exact", better: "lower" });
    out.push({ name: `${mode}.frames_checked`, value: f.pages, unit: "pages", kind: "exact" });
    out.push({ name: `${mode}.frames_equal`, value: f.equal, unit: "pages", kind: "exact" });
    out.push({ name: `${mode}.read_ms`, value: m[mode].ms, unit: "ms", kind: "noisy" });
  }
  return out;
}

/** The duplicates to cross-check by page frames: largest first, those across sources before those within one. */
export function frameSample(dups: Duplicate[], n: number): Duplicate[] {
  const cross = (d: Duplicate) => (d.label !== d.firstLabel ? 1 : 0);
  return [...dups].sort((a, b) => cross(b) - cross(a) || b.size - a.size).slice(0, n);
}
