// Questions asked of the history: which runs (by kernel, the last N), one figure over kernels and
// dates (for `pcshare trend`), and per kernel the latest run against the one before it (for
// `pcshare regressions`, judged with the A/B comparison's statistics).
import { compareSamples, type Comparison } from "../report/compare.ts";
import { loadRun } from "./record.ts";
import { rows, type Database, type SqlValue } from "./store.ts";

export interface RunFilter {
  /** Substring of the kernel identity (release, source, config hash, series hash). */
  kernel?: string;
  /** Only the last N runs (by start time). */
  last?: number;
  /** Only runs with this label (e.g. nightly). */
  label?: string;
}

export interface RunSummary {
  id: number;
  startedAt: string;
  kernel: string;
  release: string;
  source: string;
  host: string;
  pcshareVersion: string;
  pcshareCommit?: string;
  label?: string;
  results?: string;
  /** outcome -> number of case results. */
  outcomes: Record<string, number>;
}

function where(f: RunFilter): { sql: string; params: SqlValue[] } {
  const terms = [...(f.kernel ? ["instr(r.kernel_key, ?) > 0"] : []), ...(f.label ? ["r.label = ?"] : [])];
  const params = [...(f.kernel ? [f.kernel] : []), ...(f.label ? [f.label] : [])];
  return { sql: terms.length ? `WHERE ${terms.join(" AND ")}` : "", params };
}

/** Distinct values of a runs column (kernel_key, label) or of measurement names, for error messages. */
export function recorded(db: Database, what: "kernel_key" | "label" | "measurement"): string[] {
  const q = what === "measurement" ? "SELECT DISTINCT name AS v FROM measurements ORDER BY name" : `SELECT DISTINCT ${what} AS v FROM runs WHERE ${what} IS NOT NULL ORDER BY ${what}`;
  return rows<{ v: string }>(db, q).map((r) => String(r.v));
}

/** Runs oldest first (the last N when asked), with their outcome counts. */
export function listRuns(db: Database, f: RunFilter = {}): RunSummary[] {
  const w = where(f);
  const limit = f.last ? `LIMIT ${Math.floor(f.last)}` : "";
  const runs = rows<Record<string, SqlValue>>(db, `SELECT * FROM (SELECT r.* FROM runs r ${w.sql} ORDER BY r.started_at DESC, r.id DESC ${limit}) ORDER BY started_at, id`, w.params);
  return runs.map((r) => {
    const outcomes: Record<string, number> = {};
    for (const o of rows<{ outcome: string; n: number }>(db, "SELECT outcome, count(*) AS n FROM case_results WHERE run_id = ? GROUP BY outcome", [r.id])) outcomes[o.outcome] = o.n;
    return {
      id: Number(r.id), startedAt: String(r.started_at), kernel: String(r.kernel_key), release: String(r.kernel_release), source: String(r.kernel_source),
      host: String(r.host), pcshareVersion: String(r.pcshare_version), outcomes,
      ...(r.pcshare_commit !== null && { pcshareCommit: String(r.pcshare_commit) }),
      ...(r.label !== null && { label: String(r.label) }),
      ...(r.results !== null && { results: String(r.results) }),
    };
  });
}

export interface TrendPoint {
  runId: number;
  startedAt: string;
  release: string;
  source: string;
  kernel: string;
  caseId: string;
  /** The figure's full label: name, [series], @x. */
  figure: string;
  unit: string;
  /** Median over the run's repetitions, and how many there were. */
  value: number;
  samples: number;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The figure named `name` (or name[series]@x) in every run, one point per run and figure, oldest first. */
export function trendPoints(db: Database, name: string, f: RunFilter & { caseId?: string } = {}): TrendPoint[] {
  const w = where(f);
  const data = rows<Record<string, SqlValue>>(
    db,
    `SELECT r.id AS run_id, r.started_at, r.kernel_release, r.kernel_source, r.kernel_key, c.case_id, m.name, m.series, m.x, m.unit, m.value
       FROM measurements m JOIN case_results c ON c.id = m.case_result_id JOIN runs r ON r.id = c.run_id
       ${w.sql ? `${w.sql} AND` : "WHERE"} (m.name = ? OR m.name || coalesce('[' || m.series || ']', '') || coalesce('@' || m.x, '') = ?) ${f.caseId ? "AND c.case_id = ?" : ""}
       ORDER BY r.started_at, r.id`,
    [...w.params, name, name, ...(f.caseId ? [f.caseId] : [])],
  );
  const points = new Map<string, TrendPoint & { values: number[] }>();
  for (const d of data) {
    const figure = `${d.name}${d.series !== null ? `[${d.series}]` : ""}${d.x !== null ? `@${d.x}` : ""}`;
    const key = `${d.run_id}\0${d.case_id}\0${figure}\0${d.unit}`;
    const p = points.get(key) ?? {
      runId: Number(d.run_id), startedAt: String(d.started_at), release: String(d.kernel_release), source: String(d.kernel_source), kernel: String(d.kernel_key),
      caseId: String(d.case_id), figure, unit: String(d.unit), value: 0, samples: 0, values: [],
    };
    p.values.push(Number(d.value));
    points.set(key, p);
  }
  return [...points.values()].map(({ values, ...p }) => ({ ...p, value: median(values), samples: values.length }));
}

export interface KernelRegression {
  kernel: string;
  previous: RunSummary;
  latest: RunSummary;
  comparison: Comparison;
}

/** Per kernel identity with at least two runs: the latest run judged against the one before it. */
export function latestAgainstPrevious(db: Database, f: RunFilter = {}): { compared: KernelRegression[]; single: RunSummary[] } {
  const byKernel = new Map<string, RunSummary[]>();
  for (const r of listRuns(db, { kernel: f.kernel, label: f.label })) byKernel.set(r.kernel, [...(byKernel.get(r.kernel) ?? []), r]);
  const compared: KernelRegression[] = [];
  const single: RunSummary[] = [];
  for (const [kernel, runs] of byKernel) {
    if (runs.length < 2) {
      single.push(runs[0]);
      continue;
    }
    const [previous, latest] = runs.slice(-2);
    const label = (r: RunSummary) => `run ${r.id} (${r.startedAt})`;
    const comparison = compareSamples({ runs: [loadRun(db, previous.id)], files: [label(previous)] }, { runs: [loadRun(db, latest.id)], files: [label(latest)] });
    compared.push({ kernel, previous, latest, comparison });
  }
  return { compared, single };
}
