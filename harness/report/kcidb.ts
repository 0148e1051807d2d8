// KCIDB I/O JSON export (kernelci/kcidb-io schema v5.3): one checkout (the kernel source), one build
// (the kernel that was booted), one test per case (path "erofs.pcshare.<id>"), one issue per registered
// kernel bug that affects the kernel (known-bugs/*.yaml) and one incident per case result the bug
// explains (present) or did not show in (xpass, not present). Status mapping in KCIDB_STATUS. Test and
// incident ids are "pcshare:<sha256 prefix>" of stable inputs, so re-exporting the same results.json
// gives the same ids (resubmission replaces rather than duplicates); issue ids are the bug's id.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { CaseResult, Measurement, Outcome, RunResult } from "./model.ts";
import { cleanText, oneLine } from "./common.ts";

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;
export const KCIDB_ORIGIN = "pcshare";
export const KCIDB_PATH_PREFIX = "erofs.pcshare";
const LOG_EXCERPT_MAX = 16384; // schema maxLength

export type KcidbStatus = "FAIL" | "ERROR" | "MISS" | "PASS" | "DONE" | "SKIP";

/**
 * Outcome -> KCIDB test status. xfail: the kernel showed a registered bug, so FAIL (the code is
 * faulty), and an incident links the test to that bug's issue (5.x has no "waived": triage is issues
 * and incidents). xpass: the kernel behaved correctly, so PASS, with an incident saying the issue was
 * not present. error/timeout: the test did not complete, status of the code unknown -> ERROR. missing: selected
 * but never executed (the run stopped first) -> MISS, KCIDB's own status for a test that did not run.
 * A pass with no checks but with measurements is DONE (see kcidbStatus).
 */
export const KCIDB_STATUS: Readonly<Record<Outcome, KcidbStatus>> = {
  pass: "PASS",
  fail: "FAIL",
  skip: "SKIP",
  xfail: "FAIL",
  xpass: "PASS",
  error: "ERROR",
  timeout: "ERROR",
  missing: "MISS",
};

export function kcidbStatus(c: CaseResult): KcidbStatus {
  const s = KCIDB_STATUS[c.outcome];
  if (c.outcome === "pass" && c.checks.length === 0 && c.measurements.length > 0) return "DONE";
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

export interface KcidbOptions {
  /** URL of the results directory (e.g. file:///…/results/x/ or where CI publishes it): test input/output files link into it. */
  resultsUrl?: string;
}

/** A case's artifacts as KCIDB resources: qemu.cmd is the test's input, the logs its output. */
function resources(c: CaseResult, baseUrl: string | undefined, keys: string[]): { name: string; url: string }[] | undefined {
  if (!baseUrl) return undefined;
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  const files = keys.map((k) => c.artifacts[k]).filter((f): f is string => !!f);
  return files.length ? files.map((f) => ({ name: f.split("/").pop()!, url: new URL(f.split("/").map(encodeURIComponent).join("/"), base).href })) : undefined;
}

/** The registered bugs as KCIDB issues: the kernel's code is the culprit, the bug's link the report. */
function issues(run: RunResult): Record<string, unknown>[] {
  return (run.knownBugs ?? []).map((b) => ({
    id: `${KCIDB_ORIGIN}:${b.id}`,
    version: b.version,
    origin: KCIDB_ORIGIN,
    ...(b.link && { report_url: b.link }),
    report_subject: oneLine(b.title),
    culprit: { code: true, tool: false, harness: false },
    comment: oneLine(`${b.title}${b.race ? " (a race: fires by chance)" : ""}`),
    misc: { file: `known-bugs/${b.file}`, cases: b.cases, race: b.race },
  }));
}

/** One incident per (case result, bug): present for an xfail, not present for an xpass. */
function incidents(run: RunResult, tests: { id: string; case: CaseResult }[], buildId: string): Record<string, unknown>[] {
  return tests.flatMap(({ id, case: c }) =>
    (c.knownBugs ?? []).map((b) => ({
      id: kid("incident", id, b.id, String(b.version)),
      origin: KCIDB_ORIGIN,
      issue_id: `${KCIDB_ORIGIN}:${b.id}`,
      issue_version: b.version,
      build_id: buildId,
      test_id: id,
      present: c.outcome === "xfail",
      comment: oneLine(c.outcome === "xfail" ? `${c.id}: ${b.matched.join("; ")}` : `${c.id} passed: ${b.id} did not show`),
    })),
  );
}

/** The KCIDB I/O object. */
export function toKcidb(run: RunResult, opts: KcidbOptions = {}): Record<string, unknown> {
  const k = run.kernel;
  const checkoutId = kid("checkout", k.source, k.version);
  const buildId = kid("build", k.source, k.version, k.release, JSON.stringify(Object.entries(k.hashes).sort()));
  const environment = {
    comment: oneLine(`${run.host.hostname}: qemu ${run.host.qemu}, accel ${run.host.accel}, ${run.host.cpus} cpus`),
    misc: { ...run.host },
  };
  const tests = run.cases.map((c) => {
    const status = kcidbStatus(c);
    const head = status === "SKIP" ? undefined : headlineMeasurement(c);
    const excerpt = logExcerpt(c);
    const inputs = resources(c, opts.resultsUrl, ["qemu"]);
    const outputs = resources(c, opts.resultsUrl, ["console", "dmesg"]);
    const test: Record<string, unknown> = {
      id: kid("test", buildId, run.startedAt, run.host.hostname, c.id, String(c.repeat ?? "")),
      build_id: buildId,
      origin: KCIDB_ORIGIN,
      path: kcidbPath(c),
      comment: oneLine(`${c.id} ${c.name}${c.reason ? `: ${c.reason}` : ""}`),
      status,
      start_time: run.startedAt,
      duration: Number.isFinite(c.durationMs) ? c.durationMs / 1000 : 0,
      environment,
      ...(inputs && { input_files: inputs }),
      ...(outputs && { output_files: outputs }),
      misc: {
        pcshare_outcome: c.outcome,
        ...(c.rawOutcome !== undefined ? { raw_outcome: c.rawOutcome } : {}),
        ...(c.knownBugs?.length ? { known_bugs: c.knownBugs.map((b) => b.id) } : {}),
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
        misc: { source: k.source, version: k.version, ...(k.series ? { series: k.series } : {}) },
      },
    ],
    builds: [
      {
        id: buildId,
        checkout_id: checkoutId,
        origin: KCIDB_ORIGIN,
        comment: oneLine(`${k.release} (${k.source})`),
        architecture: "x86_64",
        status: "PASS", // it booted: a kernel that does not build or boot gives no RunResult
        misc: { release: k.release, hashes: k.hashes, config: k.config, tools: run.tools },
      },
    ],
    tests,
    issues: issues(run),
    incidents: incidents(run, tests.map((t, i) => ({ id: t.id as string, case: run.cases[i] })), buildId),
  };
}

export function renderKcidb(run: RunResult, opts: KcidbOptions = {}): string {
  return JSON.stringify(toKcidb(run, opts), null, 2) + "\n";
}
