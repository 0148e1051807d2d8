// `pcshare run --shard i/n`: splits the selected cases into n groups of about equal expected time, so
// n machines (or n CI jobs) can run one group each and `pcshare merge` joins them. A case's expected
// time is its mean duration in earlier results (the files given with --durations, else the newest
// complete run under results/); a case those results do not time gets the median of the timed ones,
// or, when nothing is timed, its declared timeout. The split is a pure function of the selection and
// those weights: every shard computes the same groups, and each case is in exactly one.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { CaseDef } from "./case.ts";
import type { RunResult, ShardInfo } from "../report/model.ts";
import { readResults } from "../report/json.ts";
import { InputError } from "../util/input-error.ts";

export const DEFAULT_CASE_TIMEOUT_MS = 60_000;

/** "2/4" -> { index: 2, count: 4 } (1-based); anything else is an InputError naming the option. */
export function parseShard(text: string, name = "--shard"): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 1000) {
    throw new InputError(`${name} ${text}: expected I/N with 1 <= I <= N <= 1000, e.g. ${name} 1/2`);
  }
  return { index, count };
}

/** Mean recorded duration (ms) per case id over `runs`; skips and missing cases did not run and say nothing. */
export function recordedDurations(runs: RunResult[]): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const run of runs) {
    for (const c of run.cases) {
      if (c.outcome === "skip" || c.outcome === "missing" || !(c.durationMs > 0)) continue;
      const s = sums.get(c.id) ?? { total: 0, n: 0 };
      s.total += c.durationMs;
      s.n++;
      sums.set(c.id, s);
    }
  }
  return new Map([...sums].map(([id, s]) => [id, s.total / s.n]));
}

/** The expected time of each case (ms), in selection order: recorded, else the median recorded, else the timeout. */
export function caseWeights(cases: CaseDef[], durations: ReadonlyMap<string, number>): number[] {
  const known = cases.map((c) => durations.get(c.id)).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const median = known.length ? known[Math.floor((known.length - 1) / 2)] : undefined;
  return cases.map((c) => durations.get(c.id) ?? median ?? c.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS);
}

/**
 * Split `cases` into `count` groups (case ids, each group in selection order): longest case first onto
 * the least loaded group, ties to the lower group and the earlier case. The most loaded group then
 * exceeds the least loaded by at most one case's weight.
 */
export function splitShards(cases: CaseDef[], count: number, weights: number[]): string[][] {
  const order = cases.map((_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b);
  const load = new Array<number>(count).fill(0);
  const owner = new Array<number>(cases.length);
  for (const i of order) {
    let best = 0;
    for (let g = 1; g < count; g++) if (load[g] < load[best]) best = g;
    owner[i] = best;
    load[best] += weights[i];
  }
  return load.map((_, g) => cases.filter((_, i) => owner[i] === g).map((c) => c.id));
}

/** The newest complete run (not a shard) under `dir` (results/<timestamp>/results.json), or undefined. */
export async function newestResults(dir = "results"): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: { file: string; mtime: number }[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const file = path.join(dir, e.name, "results.json");
    const st = await stat(file).catch(() => undefined);
    if (st) files.push({ file, mtime: st.mtimeMs });
  }
  files.sort((a, b) => b.mtime - a.mtime || a.file.localeCompare(b.file));
  for (const f of files) {
    const run = await readResults(f.file).catch(() => undefined);
    if (run && !run.shard) return f.file;
  }
  return undefined;
}

export interface ShardRequest {
  /** "i/n" as given. */
  shard: string;
  /** Results files whose durations weigh the cases; undefined: the newest complete run under results/; []: timeouts only. */
  durations?: string[];
  /** Where to look for the newest run when durations is undefined (default results/). */
  resultsDir?: string;
}

/** This shard's cases and the record of the split that results.json keeps for `pcshare merge`. */
export async function shardCases(selected: CaseDef[], req: ShardRequest): Promise<{ cases: CaseDef[]; info: ShardInfo }> {
  const { index, count } = parseShard(req.shard);
  if (count > selected.length) {
    throw new InputError(`--shard ${req.shard}: the selection has ${selected.length} case(s); use at most ${selected.length} shard(s)`);
  }
  const files = req.durations ?? [await newestResults(req.resultsDir)].filter((f): f is string => f !== undefined);
  const runs = await Promise.all(files.map((f) => readResults(f)));
  const durations = recordedDurations(runs);
  const groups = splitShards(selected, count, caseWeights(selected, durations));
  const mine = new Set(groups[index - 1]);
  return {
    cases: selected.filter((c) => mine.has(c.id)),
    info: { index, count, selection: selected.map((c) => c.id), groups, weighedBy: files.length ? files.map((f) => path.resolve(f)) : "timeouts" },
  };
}
