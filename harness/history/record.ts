// A RunResult into history rows and back: one runs row (the kernel identity, pcshare version, host),
// a case_results row per case result, a measurements row per figure. Reading a run back gives the
// RunResult fields the comparison statistics use (outcomes, durations, figures with kind and unit).
import { sha256Hex } from "../util/hash.ts";
import { measurementKind, type CaseResult, type Measurement, type Outcome, type RunResult } from "../report/model.ts";
import { rows, type Database, type SqlValue } from "./store.ts";

export interface RecordMeta {
  /** The recording pcshare's version, used when the result does not say which pcshare produced it. */
  pcshareVersion: string;
  pcshareCommit?: string;
  /** Free label, e.g. "nightly" or "shard 1/4". */
  label?: string;
  /** Where the results directory was (kept for the listing). */
  results?: string;
}

/** The provenance fields a result may carry (results written before provenance have none). */
interface ProvenanceFields {
  provenance?: { pcshare?: { version?: string; commit?: string }; kernel?: { configSha256?: string; seriesSha256?: string } };
}

/** sha256 of the whole kernel config when the result's provenance has it, else of the recorded options, in a stable order. */
export function configHash(run: RunResult): string {
  const whole = (run as RunResult & ProvenanceFields).provenance?.kernel?.configSha256;
  return whole ?? sha256Hex(JSON.stringify(Object.entries(run.kernel.config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export function seriesHash(run: RunResult): string | undefined {
  return (run as RunResult & ProvenanceFields).provenance?.kernel?.seriesSha256 ?? run.kernel.series?.hash;
}

/** What makes two runs "the same kernel": release, source, config hash and series hash. */
export function kernelKey(run: RunResult): string {
  const k = run.kernel;
  return [k.release, k.source, configHash(run).slice(0, 12), seriesHash(run)?.slice(0, 12) ?? "-"].join(" ");
}

/** pcshare's version and commit as the result records them, else those of the pcshare recording it. */
export function producedBy(run: RunResult, meta: RecordMeta): { version: string; commit?: string } {
  const p = (run as RunResult & ProvenanceFields).provenance?.pcshare;
  return p?.version ? { version: p.version, ...(p.commit && { commit: p.commit }) } : { version: meta.pcshareVersion, ...(meta.pcshareCommit && { commit: meta.pcshareCommit }) };
}

/** Identity of one execution: the same results added twice are one run. */
export function runKey(run: RunResult): string {
  return sha256Hex([run.startedAt, run.host.hostname, run.kernel.source, run.kernel.release, ...run.cases.map((c) => `${c.id}#${c.repeat ?? 0}`)].join("\n"));
}

function insertCase(db: Database, runId: number, c: CaseResult): void {
  db.run(
    "INSERT INTO case_results (run_id, case_id, name, groups, repeat, outcome, raw_outcome, reason, duration_ms, known_bugs) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [runId, c.id, c.name, c.groups.join(","), c.repeat ?? null, c.outcome, c.rawOutcome ?? null, c.reason ?? null, Number.isFinite(c.durationMs) ? c.durationMs : 0, c.knownBugs?.map((b) => b.id).join(",") || null],
  );
  const caseRowId = Number(db.exec("SELECT last_insert_rowid()")[0].values[0][0]);
  for (const m of c.measurements) {
    if (!Number.isFinite(m.value)) continue; // NaN/Infinity: not a figure SQLite (or a chart) can hold
    db.run("INSERT INTO measurements (case_result_id, name, value, unit, kind, kind_declared, better, series, x) VALUES (?,?,?,?,?,?,?,?,?)", [
      caseRowId, m.name, m.value, m.unit, measurementKind(m) ?? "noisy", measurementKind(m) !== undefined ? 1 : 0, m.better ?? null, m.series ?? null, m.x ?? null,
    ]);
  }
}

/** Appends the run (inside the caller's transaction); false when the same run was recorded before. */
export function insertRun(db: Database, run: RunResult, meta: RecordMeta): boolean {
  const key = runKey(run);
  if (rows(db, "SELECT id FROM runs WHERE run_key = ?", [key]).length) return false;
  const k = run.kernel;
  const by = producedBy(run, meta);
  db.run(
    `INSERT INTO runs (run_key, started_at, finished_at, kernel_key, kernel_release, kernel_source, kernel_version, config_hash, kernel_config, kernel_hashes,
       series_hash, series_spec, pcshare_version, pcshare_commit, host, accel, label, results, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    [
      key, run.startedAt, run.finishedAt, kernelKey(run), k.release, k.source, k.version, configHash(run), JSON.stringify(k.config), JSON.stringify(k.hashes),
      seriesHash(run) ?? null, k.series?.spec ?? null, by.version, by.commit ?? null, run.host.hostname, run.host.accel, meta.label ?? null,
      meta.results ?? null, new Date().toISOString(),
    ],
  );
  const runId = Number(db.exec("SELECT last_insert_rowid()")[0].values[0][0]);
  for (const c of run.cases) insertCase(db, runId, c);
  return true;
}

interface RunRow {
  id: number;
  started_at: string;
  finished_at: string;
  kernel_release: string;
  kernel_source: string;
  kernel_version: string;
  kernel_config: string;
  kernel_hashes: string;
  series_hash: string | null;
  series_spec: string | null;
  host: string;
  accel: string;
}

/** The run as recorded: enough of a RunResult for the comparison statistics and the reports' headers. */
export function loadRun(db: Database, runId: number): RunResult {
  const [r] = rows<RunRow>(db, "SELECT * FROM runs WHERE id = ?", [runId]);
  if (!r) throw new Error(`history has no run ${runId}`);
  const figures = new Map<number, Measurement[]>();
  for (const m of rows<Record<string, SqlValue>>(db, "SELECT m.* FROM measurements m JOIN case_results c ON c.id = m.case_result_id WHERE c.run_id = ? ORDER BY m.id", [runId])) {
    const list = figures.get(Number(m.case_result_id)) ?? [];
    list.push({
      name: String(m.name), value: Number(m.value), unit: String(m.unit),
      ...(m.kind_declared ? { kind: m.kind as Measurement["kind"] } : {}),
      ...(m.better !== null && { better: m.better as Measurement["better"] }),
      ...(m.series !== null && { series: String(m.series) }),
      ...(m.x !== null && { x: Number(m.x) }),
    });
    figures.set(Number(m.case_result_id), list);
  }
  const cases = rows<Record<string, SqlValue>>(db, "SELECT * FROM case_results WHERE run_id = ? ORDER BY id", [runId]).map(
    (c): CaseResult => ({
      id: String(c.case_id), name: String(c.name), groups: String(c.groups).split(",").filter(Boolean), tags: [],
      outcome: c.outcome as Outcome, ...(c.raw_outcome !== null && { rawOutcome: c.raw_outcome as Outcome }), ...(c.reason !== null && { reason: String(c.reason) }),
      durationMs: Number(c.duration_ms), ...(c.repeat !== null && { repeat: Number(c.repeat) }),
      checks: [], measurements: figures.get(Number(c.id)) ?? [], crashes: [], findings: [], artifacts: {},
    }),
  );
  return {
    schema: "pcshare-results/1",
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    host: { hostname: r.host, accel: r.accel, cpus: 0, qemu: "", node: "" },
    kernel: {
      source: r.kernel_source, release: r.kernel_release, version: r.kernel_version, hashes: JSON.parse(r.kernel_hashes), config: JSON.parse(r.kernel_config),
      ...(r.series_hash !== null && { series: { spec: r.series_spec ?? "", base: "", hash: r.series_hash, patches: [] } }),
    },
    tools: {},
    cases,
  };
}
