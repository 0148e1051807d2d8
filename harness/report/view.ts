// The readable report's content, independent of markup: header facts, verdict rows, failure details,
// measurement tables and charts, findings and totals. markdown.ts and html.ts only lay this out.
// All strings here are cleaned of control characters but NOT escaped for any markup.
import { FAILING, repeatStability, outcomeCounts, type CaseResult, type Outcome, type RunResult, type SeriesInfo, type BootRecord } from "./model.ts";
import {
  caseTitle,
  cleanText,
  failedChecks,
  formatDuration,
  formatNumber,
  hasFailureDetails,
  humanScale,
  humanValue,
  oneLine,
  runDurationMs,
  totalsLine,
} from "./common.ts";
import { measurementCharts, type MeasurementChart } from "./svg-chart.ts";
import { tallyKnownBugs } from "../verdict/known-bugs.ts";
import { describeConfinement } from "../vm/confine.ts";

export interface HeaderFact {
  label: string;
  /** One or more values; several are shown as a list. `code` ones are shown monospaced. */
  values: string[];
  code?: boolean;
}

export interface VerdictRow {
  id: string;
  name: string;
  groups: string;
  outcome: Outcome;
  reason: string;
  duration: string;
}

export interface FailureDetail {
  title: string;
  outcome: Outcome;
  reason?: string;
  checks: { name: string; expected: string; seen: string }[];
  crashes: { kind: string; title: string; excerpt: string }[];
  console?: string;
}

export interface MeasurementRow {
  name: string;
  series: string;
  x: string;
  /** Human value, e.g. "4 MiB". */
  value: string;
  /** Raw value with its unit, e.g. "4194304 B". */
  raw: string;
}

/** x-by-series table for one chart: the chart's data as text (what Markdown shows instead of SVG). */
export interface PivotTable {
  unit: string;
  columns: string[];
  rows: { x: string; cells: string[] }[];
}

export interface MeasuredCase {
  title: string;
  rows: MeasurementRow[];
  charts: MeasurementChart[];
  pivots: PivotTable[];
}

/** A registered kernel bug that affects the run's kernel, with what the run saw of it. */
export interface KnownBugView {
  id: string;
  title: string;
  file: string;
  link?: string;
  race: boolean;
  /** "hit in 3 of 10 results of L1 (7 passed: xpass)". */
  tally: string;
  /** The xfail results it explains, with their failed checks, crash excerpts and console. */
  hits: (FailureDetail & { matched: string[] })[];
  /** The results of its cases that passed (xpass). */
  passed: string[];
}

export interface ReportView {
  title: string;
  /** "PASS" if no case has a failing outcome, else "FAIL". */
  verdict: "PASS" | "FAIL";
  totals: string;
  header: HeaderFact[];
  rows: VerdictRow[];
  failures: FailureDetail[];
  measured: MeasuredCase[];
  findings: { title: string; text: string }[];
  /** Registered bugs for this kernel (undefined when the run was not checked against known-bugs/). */
  knownBugs?: KnownBugView[];
  /** For --repeat runs: cases whose verdict varied, then the count of steady ones (undefined otherwise). */
  stability?: { varied: { title: string; outcomes: string }[]; steady: number };
}

function header(run: RunResult): HeaderFact[] {
  const k = run.kernel;
  const h = run.host;
  const facts: HeaderFact[] = [
    { label: "Kernel source", values: [k.source], code: true },
    { label: "Kernel release", values: [k.release], code: true },
    { label: "Kernel version", values: [k.version], code: true },
    { label: "Kernel hashes (sha256)", values: Object.entries(k.hashes).map(([f, s]) => `${f}: ${s}`), code: true },
    { label: "Config options", values: Object.entries(k.config).map(([o, v]) => `${o}=${v}`), code: true },
    ...(k.series ? [seriesFact(k.series)] : []),
    ...(k.boot ? [{ label: "Kernel boot", values: [k.boot === "pvh" ? "pvh (ELF vmlinux through its PVH entry)" : `bzimage${k.bootReason ? ` (${k.bootReason})` : ""}`] }] : []),
    { label: "Tools", values: Object.entries(run.tools).map(([t, v]) => `${t} ${v}`) },
    { label: "Host", values: [`${h.hostname}, ${h.cpus} CPUs, node ${h.node}`] },
    { label: "QEMU / accel", values: [`${h.qemu} / ${h.accel}`] },
    { label: "QEMU confinement", values: [h.qemuConfinement ? describeConfinement(h.qemuConfinement) : "not recorded (results of an older pcshare)"] },
    { label: "Image drives", values: [h.driveBus === "virtio-scsi" ? "virtio-scsi: every image a LUN of one controller (PCSHARE_DRIVE_BUS)" : "virtio-blk: one PCI device per image"] },
    { label: "Started", values: [run.startedAt] },
    { label: "Finished", values: [run.finishedAt] },
    { label: "Duration", values: [formatDuration(runDurationMs(run))] },
    ...(run.boots?.length ? [bootsFact(run.boots)] : []),
  ];
  return facts.map((f) => ({ ...f, values: f.values.length ? f.values.map(oneLine) : ["(none)"] }));
}

function stabilityView(run: RunResult): ReportView["stability"] {
  const all = repeatStability(run);
  if (!all.length) return undefined;
  const varied = all.filter((c) => c.varies).map((c) => ({ title: oneLine(`${c.id} ${c.name}`), outcomes: outcomeCounts(c.outcomes) }));
  return { varied, steady: all.length - varied.length };
}

function seriesFact(series: SeriesInfo): HeaderFact {
  return {
    label: "Patch series",
    values: [
      `${series.spec} on ${series.base}, patchset sha256 ${series.hash}`,
      ...series.patches.map((p, i) => `${i + 1}/${series.patches.length} ${p.subject}${p.messageId ? ` (${p.messageId.replace(/^<|>$/g, "")})` : ""}`),
    ],
  };
}

function bootsFact(boots: BootRecord[]): HeaderFact {
  const waited = boots.reduce((n, b) => n + b.waitedMs, 0);
  const restored = boots.filter((b) => b.start === "restore");
  const problems = [...new Set(boots.flatMap((b) => (b.restoreProblem ? [b.restoreProblem] : [])))];
  const wall = (bs: BootRecord[]) => bs.map((b) => `${(b.hostWallMs / 1000).toFixed(2)} s`).join(", ");
  const booted = boots.filter((b) => b.start !== "restore");
  return {
    label: "Guests",
    values: [
      `${boots.length}: ${booted.length} booted${booted.length ? ` (ready after ${wall(booted)} of host wall)` : ""}, ${restored.length} restored from a snapshot${restored.length ? ` (ready after ${wall(restored)})` : ""}; ${formatDuration(waited)} waited in all`,
      ...problems.map((p) => `not restored: ${p}`),
    ],
  };
}

function failure(c: CaseResult): FailureDetail {
  return {
    title: oneLine(caseTitle(c)),
    outcome: c.outcome,
    reason: c.reason !== undefined ? oneLine(c.reason) : undefined,
    checks: failedChecks(c).map((k) => ({
      name: oneLine(k.name),
      expected: k.expected !== undefined ? cleanText(k.expected) : "",
      seen: k.seen !== undefined ? cleanText(k.seen) : "",
    })),
    crashes: c.crashes.map((cr) => ({ kind: oneLine(cr.kind), title: oneLine(cr.title), excerpt: cleanText(cr.symbolized ?? cr.excerpt) })),
    console: c.consoleExcerpt ? cleanText(c.consoleExcerpt) : undefined,
  };
}

function pivot(chart: MeasurementChart): PivotTable {
  const all = chart.series.flatMap((s) => s.points.map((p) => p.y));
  const scale = humanScale(chart.unit, Math.max(0, ...all.map(Math.abs)));
  const xs = [...new Set(chart.series.flatMap((s) => s.points.map((p) => p.x)))];
  if (xs.every((x) => typeof x === "number")) (xs as number[]).sort((a, b) => a - b);
  return {
    unit: scale.unit,
    columns: chart.series.map((s) => oneLine(s.name)),
    rows: xs.map((x) => ({
      x: oneLine(String(x)),
      cells: chart.series.map((s) => {
        const p = s.points.find((q) => q.x === x);
        return p ? formatNumber(p.y * scale.factor) : "";
      }),
    })),
  };
}

function measured(c: CaseResult): MeasuredCase {
  const charts = measurementCharts(c.measurements).map((ch) => ({
    ...ch,
    title: oneLine(ch.title),
    series: ch.series.map((s) => ({ ...s, name: oneLine(s.name) })),
  }));
  return {
    title: oneLine(caseTitle(c)),
    rows: c.measurements.map((m) => ({
      name: oneLine(m.name),
      series: m.series !== undefined ? oneLine(m.series) : "",
      x: m.x !== undefined ? formatNumber(m.x) : "",
      value: humanValue(m.value, m.unit),
      raw: `${formatNumber(m.value)} ${oneLine(m.unit)}`.trim(),
    })),
    charts,
    pivots: charts.map(pivot),
  };
}

function knownBugsView(run: RunResult): KnownBugView[] | undefined {
  if (!run.knownBugs) return undefined;
  const tallies = tallyKnownBugs(run);
  return run.knownBugs.map((b, i) => {
    const t = tallies[i];
    const mine = (c: CaseResult) => c.knownBugs?.some((k) => k.id === b.id);
    const passedNote = t.passes ? ` (${t.passes} passed: ${b.race ? "the race did not fire" : `fixed? update known-bugs/${b.file}`})` : "";
    return {
      id: oneLine(b.id),
      title: oneLine(b.title),
      file: oneLine(b.file),
      ...(b.link && { link: oneLine(b.link) }),
      race: b.race,
      tally: `Hit in ${t.hits} of ${t.runs} result(s) of ${b.cases.join(", ")}${passedNote}`,
      hits: run.cases
        .filter((c) => c.outcome === "xfail" && mine(c))
        .map((c) => ({ ...failure(c), matched: (c.knownBugs?.find((k) => k.id === b.id)?.matched ?? []).map(oneLine) })),
      passed: run.cases.filter((c) => c.outcome === "xpass" && mine(c)).map((c) => oneLine(caseTitle(c))),
    };
  });
}

export function buildView(run: RunResult): ReportView {
  return {
    title: oneLine(`pcshare report: ${run.kernel.release || run.kernel.source}`),
    verdict: run.cases.some((c) => FAILING.has(c.outcome)) ? "FAIL" : "PASS",
    totals: totalsLine(run),
    header: header(run),
    rows: run.cases.map((c) => ({
      id: oneLine(c.id),
      name: oneLine(c.name) + (c.repeat !== undefined ? ` #${c.repeat + 1}` : ""),
      groups: oneLine(c.groups.join(", ")),
      outcome: c.outcome,
      reason: c.reason !== undefined ? oneLine(c.reason) : "",
      duration: formatDuration(c.durationMs),
    })),
    failures: run.cases.filter(hasFailureDetails).map(failure),
    measured: run.cases.filter((c) => c.measurements.length > 0).map(measured),
    findings: run.cases.flatMap((c) => c.findings.map((f) => ({ title: oneLine(caseTitle(c)), text: oneLine(f) }))),
    knownBugs: knownBugsView(run),
    stability: stabilityView(run),
  };
}
