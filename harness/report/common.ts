// Small helpers shared by the reporters: text cleaning (control characters, ANSI escapes), value
// formatting in human units (B -> KiB/MiB/GiB, ms -> s), durations, case labels and totals lines.
// Nothing here knows about any one output format.
import { OUTCOMES, summarize, type CaseResult, type Measurement, type Outcome, type RunResult } from "./model.ts";

/** ANSI CSI/OSC escape sequences as they appear on serial consoles (colours, cursor moves). */
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
/** Everything XML 1.0 forbids (C0 except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), plus DEL and C1. */
const FORBIDDEN = /[^\t\n\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Console text made safe for any report: CRLF/CR become LF, ANSI escapes and characters that XML 1.0
 * or HTML cannot carry are dropped. Unicode (including astral characters) is kept.
 */
export function cleanText(s: string): string {
  return s.replace(/\r\n?/g, "\n").replace(ANSI, "").replace(FORBIDDEN, "");
}

/** cleanText, then all whitespace runs (newlines included) folded to one space: for one-line fields. */
export function oneLine(s: string): string {
  return cleanText(s).replace(/\s+/g, " ").trim();
}

/** Case label used by line-oriented formats: "<id>_<name>[_r<repeat>]" with spaces and '#' replaced. */
export function caseSlug(c: CaseResult): string {
  const base = `${c.id}_${c.name}` + (c.repeat !== undefined ? `_r${c.repeat}` : "");
  return oneLine(base).replace(/[\s#]+/g, "_");
}

/** Human label: "F1 same-domain-shares-frames" (+ " #2" for repeat 1). */
export function caseTitle(c: CaseResult): string {
  return `${c.id} ${c.name}` + (c.repeat !== undefined ? ` #${c.repeat + 1}` : "");
}

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Factor and unit to show values up to `maxAbs` of `unit` in (e.g. 5e6 "B" -> 1/2^20, "MiB"). */
export function humanScale(unit: string, maxAbs: number): { factor: number; unit: string } {
  const i = BINARY_UNITS.indexOf(unit);
  if (i >= 0) {
    let j = i;
    let factor = 1;
    while (j < BINARY_UNITS.length - 1 && Math.abs(maxAbs * factor) >= 1024) {
      factor /= 1024;
      j++;
    }
    return { factor, unit: BINARY_UNITS[j] };
  }
  if (unit === "ms" && Math.abs(maxAbs) >= 10_000) return { factor: 1 / 1000, unit: "s" };
  return { factor: 1, unit };
}

/** A number for people: integers as is, others with at most 3 decimals and 4 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const p = Number(v.toPrecision(4));
  return String(Math.abs(p) >= 1 ? Number(p.toFixed(3)) : p);
}

/** "4 MiB", "12.5 ms", "3 pages". */
export function humanValue(value: number, unit: string): string {
  const s = humanScale(unit, value);
  return `${formatNumber(value * s.factor)}${s.unit ? ` ${s.unit}` : ""}`;
}

/** "1.234 s", "2 min 3 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Run duration from startedAt/finishedAt, ms (NaN if either is unparsable). */
export function runDurationMs(run: RunResult): number {
  return Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

/** "7 cases: 1 pass, 1 fail, ..." with every outcome listed (zeros included, fixed order). */
export function totalsLine(run: RunResult): string {
  const t = summarize(run);
  return `${run.cases.length} cases: ` + OUTCOMES.map((o) => `${t[o]} ${o}`).join(", ");
}

/** The checks that failed. */
export function failedChecks(c: CaseResult): CaseResult["checks"] {
  return c.checks.filter((k) => !k.ok);
}

/** Outcomes whose details go in the "Failures and errors" section. */
export const NEEDS_DETAILS: ReadonlySet<Outcome> = new Set(["fail", "xpass", "error", "timeout", "missing"]);

/** True if the case has something to show under "Failures and errors" (an xfail's details are under "Known bugs"). */
export function hasFailureDetails(c: CaseResult): boolean {
  return NEEDS_DETAILS.has(c.outcome) || (c.crashes.length > 0 && !(c.outcome === "xfail" && c.knownBugs?.length));
}

/** Measurement name with its series and x, for flat lists: "cached_bytes[shared,x=4]". */
export function measurementLabel(m: Measurement): string {
  const extra = [m.series, m.x !== undefined ? `x=${m.x}` : undefined].filter((s) => s !== undefined);
  return extra.length ? `${m.name}[${extra.join(",")}]` : m.name;
}
