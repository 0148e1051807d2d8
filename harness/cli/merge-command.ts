// `pcshare merge RESULTS... --out DIR [--shards N]`: joins the results of `pcshare run --shard i/n`
// into one run and writes every format (results.json, KTAP, JUnit, KCIDB, Markdown, HTML) to DIR.
// The merged run is appended to the history (as `pcshare run` appends a run; shards are not).
// The exit status is the run's: non-zero when a case failed or is missing (a shard never reported).
import { stat } from "node:fs/promises";
import path from "node:path";
import { ALL_CASES } from "../../cases/index.ts";
import { readResults, writeReports, REPORT_FILES, RESULTS_FILE } from "../report/index.ts";
import { mergeShards, type ShardRun } from "../report/merge.ts";
import { failingOutcomes, summarize, outcomeCounts } from "../report/model.ts";
import { knownBugLines } from "../verdict/summary.ts";
import { recordRun, type HistoryOptions } from "./history-command.ts";

export interface MergeCliOptions extends Pick<HistoryOptions, "history" | "label"> {
  out: string;
  shards?: string;
  strict?: boolean;
}

/** A results.json, or a results directory holding one. */
async function resultsFile(p: string): Promise<string> {
  const st = await stat(p);
  return st.isDirectory() ? path.join(p, RESULTS_FILE) : p;
}

export async function mergeCommand(inputs: string[], opts: MergeCliOptions): Promise<number> {
  const parts: ShardRun[] = [];
  for (const p of inputs) {
    const file = await resultsFile(p);
    parts.push({ file, run: await readResults(file) });
  }
  const outDir = path.resolve(opts.out);
  const run = mergeShards(parts, {
    outDir,
    shards: opts.shards === undefined ? undefined : Number(opts.shards),
    caseFacts: (id) => {
      const c = ALL_CASES.find((d) => d.id === id);
      return c && { id: c.id, name: c.name, groups: c.groups, tags: c.tags ?? [], concern: c.concern };
    },
  });
  const files = await writeReports(run, outDir);
  const m = run.merged!;
  process.stdout.write(
    `merged ${m.parts.length} of ${m.count} shard(s) of ${run.kernel.release} (${run.kernel.source})` +
      (m.missing.length ? `; shard(s) ${m.missing.join(", ")} never reported: their cases are missing` : "") +
      `\n${outcomeCounts(summarize(run))}\n`,
  );
  const known = knownBugLines(run);
  if (known.length) process.stdout.write(`${known.join("\n")}\n`);
  process.stdout.write(`report: ${files.html ?? path.join(outDir, REPORT_FILES.html)}\nresults: ${outDir}\n`);
  process.stdout.write(await recordRun(run, outDir, opts));
  const failing = failingOutcomes(opts.strict ?? false);
  return run.cases.some((c) => failing.has(c.outcome)) ? 1 : 0;
}
