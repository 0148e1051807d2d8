// KCIDB I/O JSON export (kernelci/kcidb-io schema v4.4): one checkout (the kernel source), one build
// (the kernel that was booted) and one test per case, path "erofs.pcshare.<id>". Status mapping in
// KCIDB_STATUS. Schema v4.4 is the first 4.x with tests' "number" field (4.3 forbids it), so we claim 4.4.
// Ids are "pcshare:<sha256 prefix>" of stable inputs, so re-exporting the same results.json gives the
// same ids (resubmission replaces rather than duplicates).
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { CaseResult, Measurement, Outcome, RunResult } from "./model.ts";
import { cleanText, oneLine } from "./common.ts";

export const KCIDB_VERSION = { major: 4, minor: 4 } as const;
export const KCIDB_ORIGIN = "pcshare";
export const KCIDB_PATH_PREFIX = "erofs.pcshare";
const LOG_EXCERPT_MAX = 16384; // schema maxLength

export type KcidbStatus = "FAIL" | "ERROR" | "MISS" | "PASS" | "DONE" | "SKIP";

/**
 * Outcome -> KCIDB test status (+ waived). xfail: the kernel showed the known, documented bad
 * behaviour, so FAIL, but waived (does not alert). xpass: the kernel behaved correctly (our
 * expectation is stale), so PASS; pcshare still fails the run on it. error/timeout: the test did not
 * complete, status of the code unknown -> ERROR. MISS is never produced (every case in a RunResult
 * ran or was skipped on purpose). A pass with no checks but with measurements is DONE (see kcidbStatus).
 */
export const KCIDB_STATUS: Readonly<Record<Outcome, { status: KcidbStatus; waived?: boolean }>> = {
  pass: { status: "PASS" },
  fail: { status: "FAIL" },
  skip: { status: "SKIP" },
  xfail: { status: "FAIL", waived: true },
  xpass: { status: "PASS" },
  error: { status: "ERROR" },
  timeout: { status: "ERROR" },
};

export function kcidbStatus(c: CaseResult): { status: KcidbStatus; waived?: boolean } {
  const s = KCIDB_STATUS[c.outcome];
  if (s.status === "PASS" && c.outcome === "pass" && c.checks.length === 0 && c.measurements.length > 0) return { status: "DONE" };
  return s;
}

export interface KcidbNumber {
  value: number;
  unit?: string;
  prefix?: "metric" | "binary";
}

function kid(...parts: string[]): string {
  return `${KCIDB_ORIGIN}:${bytesToHex(sha256(new TextEncoder().encode(parts.join("\0")))).slice(0, 32)}`;
}

/** Test path for a case: "erofs.pcshare.F1" (characters outside [.a-zA-Z0-9_-] become "_"). */
export function kcidbPath(c: CaseResult): string {
  return `${KCIDB_PATH_PREFIX}.${c.id.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
}

/** The headline measurement: the first one without a series, else the first one. */
export function headlineMeasurement(c: CaseResult): Measurement | undefined {
  return c.measurements.find((m) => m.series === undefined && Number.isFinite(m.value)) ?? c.measurements.find((m) => Number.isFinite(m.value));
}

/** KCIDB "number": unprefixed byte units get prefix "binary", seconds "metric". */
export function kcidbNumber(m: Measurement): KcidbNumber {
  const n: KcidbNumber = { value: m.value };
  if (m.unit && m.unit !== "count") n.unit = m.unit;
  if (m.unit === "B") n.prefix = "binary";
  else if (m.unit === "s") n.prefix = "metric";
  return n;
}

function logExcerpt(c: CaseResult): string | undefined {
  const parts = [
    ...c.checks.filter((k) => !k.ok).map((k) => `check failed: ${k.name}: expected ${k.expected ?? "?"}, seen ${k.seen ?? "?"}`),
    ...c.crashes.map((cr) => `${cr.title}\n${cr.excerpt}`),
    ...(c.consoleExcerpt ? [c.consoleExcerpt] : []),
  ];
  if (!parts.length) return undefined;
  const text = cleanText(parts.join("\n"));
  return text.length > LOG_EXCERPT_MAX ? text.slice(0, LOG_EXCERPT_MAX) : text; // UTF-16 units; kcidb counts chars
}

/** The KCIDB I/O object. */
export function toKcidb(run: RunResult): Record<string, unknown> {
  const k = run.kernel;
  const checkoutId = kid("checkout", k.source, k.version);
  const buildId = kid("build", k.source, k.version, k.release, JSON.stringify(Object.entries(k.hashes).sort()));
  const environment = {
    comment: oneLine(`${run.host.hostname}: qemu ${run.host.qemu}, accel ${run.host.accel}, ${run.host.cpus} cpus`),
    misc: { ...run.host },
  };
  const tests = run.cases.map((c) => {
    const st = kcidbStatus(c);
    const head = st.status === "SKIP" ? undefined : headlineMeasurement(c);
    const excerpt = logExcerpt(c);
    const test: Record<string, unknown> = {
      id: kid("test", buildId, run.startedAt, run.host.hostname, c.id, String(c.repeat ?? "")),
      build_id: buildId,
      origin: KCIDB_ORIGIN,
      path: kcidbPath(c),
      comment: oneLine(`${c.id} ${c.name}${c.reason ? `: ${c.reason}` : ""}`),
      status: st.status,
      waived: st.waived ?? false,
      start_time: run.startedAt,
      duration: Number.isFinite(c.durationMs) ? c.durationMs / 1000 : 0,
      environment,
      misc: {
        pcshare_outcome: c.outcome,
        name: c.name,
        groups: c.groups,
        tags: c.tags,
        ...(c.repeat !== undefined ? { repeat: c.repeat } : {}),
        ...(c.guestMs !== undefined ? { guest_ms: c.guestMs } : {}),
        measurements: c.measurements.map((m) => ({ name: m.name, value: Number.isFinite(m.value) ? m.value : String(m.value), unit: m.unit, ...(m.series !== undefined ? { series: m.series } : {}), ...(m.x !== undefined ? { x: m.x } : {}) })),
        failed_checks: c.checks.filter((x) => !x.ok),
        crashes: c.crashes.map((cr) => ({ kind: cr.kind, title: cr.title })),
        findings: c.findings,
      },
    };
    if (head) test.number = kcidbNumber(head);
    if (excerpt) test.log_excerpt = excerpt;
    return test;
  });
  return {
    version: { ...KCIDB_VERSION },
    checkouts: [
      {
        id: checkoutId,
        origin: KCIDB_ORIGIN,
        comment: oneLine(`${k.source} ${k.version}`),
        start_time: run.startedAt,
        valid: true,
        misc: { source: k.source, version: k.version },
      },
    ],
    builds: [
      {
        id: buildId,
        checkout_id: checkoutId,
        origin: KCIDB_ORIGIN,
        comment: oneLine(`${k.release} (${k.source})`),
        valid: true,
        misc: { release: k.release, hashes: k.hashes, config: k.config, tools: run.tools },
      },
    ],
    tests,
  };
}

export function renderKcidb(run: RunResult): string {
  return JSON.stringify(toKcidb(run), null, 2) + "\n";
}
