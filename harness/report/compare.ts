// Baseline vs patched: what changed between two runs of the suite. New failures, fixed cases, other
// outcome changes, and measurement deltas beyond a tolerance that depends on the unit (TCG timings
// are noisy, page counts are not). Used by `pcshare compare` and `pcshare series`.
import type { RunResult, CaseResult, Measurement, Outcome } from "./model.ts";
import { FAILING } from "./model.ts";

export interface OutcomeChange {
  id: string;
  name: string;
  before: Outcome | "absent";
  after: Outcome | "absent";
  reason?: string;
}

export interface MeasurementDelta {
  id: string;
  name: string;
  unit: string;
  before: number;
  after: number;
  /** after - before */
  delta: number;
}

export interface Comparison {
  baseline: string;
  patched: string;
  newFailures: OutcomeChange[];
  fixed: OutcomeChange[];
  otherChanges: OutcomeChange[];
  measurementDeltas: MeasurementDelta[];
}

/** Whether a change from `a` to `b` in `unit` is beyond noise. */
export function beyondTolerance(unit: string, a: number, b: number): boolean {
  const diff = Math.abs(b - a);
  const scale = Math.max(Math.abs(a), Math.abs(b));
  switch (unit) {
    case "B":
      return diff > Math.max(256 * 1024, 0.1 * scale); // Cached noise is about +-100 KiB under TCG
    case "pages":
    case "count":
      return diff > Math.max(1, 0.05 * scale);
    case "ms":
    case "s":
      return scale > 0 && Math.max(a, b) / Math.max(Math.min(a, b), 1e-9) > 1.5; // timings: ratios only
    default:
      return diff > 0.05 * scale;
  }
}

const key = (c: CaseResult) => `${c.id}${c.repeat !== undefined ? `#${c.repeat}` : ""}`;

function byKey(run: RunResult): Map<string, CaseResult> {
  return new Map(run.cases.map((c) => [key(c), c]));
}

function measurementKey(m: Measurement): string {
  return `${m.name}${m.series ? `[${m.series}]` : ""}${m.x !== undefined ? `@${m.x}` : ""}`;
}

export function compareRuns(before: RunResult, after: RunResult): Comparison {
  const a = byKey(before);
  const b = byKey(after);
  const out: Comparison = {
    baseline: `${before.kernel.source} ${before.kernel.release}`,
    patched: `${after.kernel.source} ${after.kernel.release}`,
    newFailures: [],
    fixed: [],
    otherChanges: [],
    measurementDeltas: [],
  };
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const ca = a.get(k);
    const cb = b.get(k);
    const change: OutcomeChange = {
      id: (ca ?? cb)!.id,
      name: (ca ?? cb)!.name,
      before: ca?.outcome ?? "absent",
      after: cb?.outcome ?? "absent",
      reason: cb?.reason ?? ca?.reason,
    };
    const failedBefore = ca !== undefined && FAILING.has(ca.outcome);
    const failedAfter = cb !== undefined && FAILING.has(cb.outcome);
    if (failedAfter && !failedBefore) out.newFailures.push(change);
    else if (failedBefore && cb?.outcome === "pass") out.fixed.push(change);
    else if (change.before !== change.after) out.otherChanges.push(change);
    if (ca && cb) {
      const ma = new Map(ca.measurements.map((m) => [measurementKey(m), m]));
      for (const mb of cb.measurements) {
        const m0 = ma.get(measurementKey(mb));
        if (m0 && m0.unit === mb.unit && beyondTolerance(mb.unit, m0.value, mb.value)) {
          out.measurementDeltas.push({ id: cb.id, name: measurementKey(mb), unit: mb.unit, before: m0.value, after: mb.value, delta: mb.value - m0.value });
        }
      }
    }
  }
  return out;
}

export function formatComparison(c: Comparison): string {
  const lines = [`baseline: ${c.baseline}`, `patched:  ${c.patched}`, ""];
  const section = (title: string, items: OutcomeChange[]) => {
    lines.push(`${title}: ${items.length || "none"}`);
    for (const i of items) lines.push(`  ${i.id} ${i.name}: ${i.before} -> ${i.after}${i.reason ? `  (${i.reason})` : ""}`);
  };
  section("new failures", c.newFailures);
  section("fixed", c.fixed);
  section("other outcome changes", c.otherChanges);
  lines.push(`measurement changes beyond tolerance: ${c.measurementDeltas.length || "none"}`);
  for (const d of c.measurementDeltas) lines.push(`  ${d.id} ${d.name}: ${d.before} -> ${d.after} ${d.unit} (${d.delta > 0 ? "+" : ""}${d.delta})`);
  return lines.join("\n");
}
