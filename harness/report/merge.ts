// `pcshare merge`: joins the results of the shards of one run (`pcshare run --shard i/n`) into one
// RunResult, as if one machine had run the whole selection. Every shard records the whole split, so
// the cases of a shard that never reported are known: they come out `missing`, never absent. Shards
// of different kernels, of different splits, or twice the same shard are refused.
import path from "node:path";
import type { CaseResult, KernelInfo, RunResult } from "./model.ts";
import { resultWithoutWork } from "./model.ts";
import { canonicalJson } from "../images/build.ts";

/** The catalog facts a missing case's result carries (id, name, groups, tags, concern). */
export type CaseFacts = Pick<CaseResult, "id" | "name" | "groups" | "tags" | "concern">;

export interface ShardRun {
  /** Where the results.json was read (named in errors; artifact links are rebased from its directory). */
  file: string;
  run: RunResult;
}

export interface MergeOptions {
  /** Expected number of shards (default: the count the shards recorded). */
  shards?: number;
  /** Directory the merged results are written to: artifact paths become relative to it. */
  outDir: string;
  /** Catalog lookup for the cases of shards that never reported. */
  caseFacts: (id: string) => CaseFacts | undefined;
}

/** Raised for shards that cannot be one run; the message names the file and what to do. */
export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

/** The identity of a kernel: where it came from, its release, version and file hashes. */
function kernelId(k: KernelInfo): string {
  return canonicalJson({ source: k.source, release: k.release, version: k.version, hashes: k.hashes, series: k.series?.hash });
}

/** Whether the parts can be merged (one kernel, one split, each shard once); a MergeError naming the file when not. */
export function checkShards(parts: ShardRun[], opts: Pick<MergeOptions, "shards">): { count: number; groups: string[][]; selection: string[] } {
  if (!parts.length) throw new MergeError("pcshare merge needs at least one shard's results.json");
  const first = parts[0];
  if (!first.run.shard) throw new MergeError(`${first.file}: not a shard's results (no "shard" record); give the results of \`pcshare run --shard I/N\``);
  const { count, groups, selection } = first.run.shard;
  if (!Array.isArray(selection) || !Array.isArray(groups)) {
    throw new MergeError(`${first.file}: its "shard" record lacks selection or groups (written by an older pcshare?); run the shard again`);
  }
  if (opts.shards !== undefined && opts.shards !== count) {
    throw new MergeError(`--shards ${opts.shards}: ${first.file} is shard ${first.run.shard.index}/${count}; give the shard count the run was split into`);
  }
  const seen = new Map<number, string>();
  for (const p of parts) {
    const s = p.run.shard;
    if (!s) throw new MergeError(`${p.file}: not a shard's results (no "shard" record); give the results of \`pcshare run --shard I/N\``);
    if (!Array.isArray(s.selection) || !Array.isArray(s.groups) || !Number.isInteger(s.index) || !Number.isInteger(s.count)) {
      throw new MergeError(`${p.file}: its "shard" record lacks index, count, selection or groups (written by an older pcshare?); run the shard again`);
    }
    if (kernelId(p.run.kernel) !== kernelId(first.run.kernel)) {
      throw new MergeError(
        `${p.file}: kernel ${p.run.kernel.release} (${p.run.kernel.source}) is not ${first.file}'s ${first.run.kernel.release} (${first.run.kernel.source}); merge only shards of one kernel`,
      );
    }
    if (s.count !== count || canonicalJson([s.selection, s.groups]) !== canonicalJson([selection, groups])) {
      throw new MergeError(`${p.file}: shard ${s.index}/${s.count} was split differently from ${first.file} (other selection or --durations); run every shard with the same options`);
    }
    const dup = seen.get(s.index);
    if (dup) throw new MergeError(`${p.file}: shard ${s.index}/${count} is also ${dup}; give each shard's results once`);
    seen.set(s.index, p.file);
  }
  return { count, groups, selection };
}

/** Case results of a shard that never reported: each of its cases (each repetition) missing. */
function missingCases(ids: string[], index: number, count: number, repeats: (number | undefined)[], opts: MergeOptions): CaseResult[] {
  return repeats.flatMap((repeat) =>
    ids.map((id) => {
      const f = opts.caseFacts(id) ?? { id, name: id, groups: [], tags: [] };
      return resultWithoutWork(f, "missing", `shard ${index}/${count} never reported (no results.json for it)`, repeat);
    }),
  );
}

/** A shard's case results with artifact paths relative to the merged results directory. */
function rebased(p: ShardRun, outDir: string): CaseResult[] {
  const from = path.dirname(path.resolve(p.file));
  return p.run.cases.map((c) => ({
    ...c,
    artifacts: Object.fromEntries(Object.entries(c.artifacts).map(([k, v]) => [k, path.relative(path.resolve(outDir), path.resolve(from, v))])),
  }));
}

function mergedKnownBugs(parts: ShardRun[]): RunResult["knownBugs"] {
  const byId = new Map<string, NonNullable<RunResult["knownBugs"]>[number]>();
  for (const p of parts) {
    for (const b of p.run.knownBugs ?? []) {
      const had = byId.get(b.id);
      byId.set(b.id, { ...b, cases: [...new Set([...(had?.cases ?? []), ...b.cases])] });
    }
  }
  return parts.some((p) => p.run.knownBugs) ? [...byId.values()] : undefined;
}

/** Join shard results into one run; the cases come in selection order (repetition first, as a run plans them). */
export function mergeShards(parts: ShardRun[], opts: MergeOptions): RunResult {
  const { count, groups, selection } = checkShards(parts, opts);
  const sorted = [...parts].sort((a, b) => a.run.shard!.index - b.run.shard!.index);
  const repeats = [...new Set(parts.flatMap((p) => p.run.cases.map((c) => c.repeat)))];
  const present = new Set(sorted.map((p) => p.run.shard!.index));
  const missing = groups.map((_, i) => i + 1).filter((i) => !present.has(i));
  const order = new Map(selection.map((id, i) => [id, i]));
  const cases = [...sorted.flatMap((p) => rebased(p, opts.outDir)), ...missing.flatMap((i) => missingCases(groups[i - 1], i, count, repeats, opts))].sort(
    (a, b) => (a.repeat ?? 0) - (b.repeat ?? 0) || (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity),
  );
  const first = sorted[0].run;
  const { shard: _shard, ...base } = first;
  return {
    ...base,
    startedAt: sorted.map((p) => p.run.startedAt).sort()[0],
    finishedAt: sorted.map((p) => p.run.finishedAt).sort().at(-1)!,
    cases,
    boots: sorted.flatMap((p) => p.run.boots ?? []),
    knownBugs: mergedKnownBugs(sorted),
    merged: {
      count,
      parts: sorted.map((p) => ({ index: p.run.shard!.index, file: path.resolve(p.file), hostname: p.run.host.hostname, startedAt: p.run.startedAt, finishedAt: p.run.finishedAt })),
      missing,
    },
  };
}
