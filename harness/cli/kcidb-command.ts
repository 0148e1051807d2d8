// `pcshare kcidb submit RESULTS...`: the KCIDB 5.3 document of one or more runs, POSTed to the endpoint
// the environment names (or printed with --dry-run). Exit 1 when the endpoint refuses it.
import { stat } from "node:fs/promises";
import path from "node:path";
import { readResults, RESULTS_FILE } from "../report/index.ts";
import type { RunResult } from "../report/model.ts";
import { kcidbEndpoint, kcidbPayload, submitKcidb } from "../report/kcidb-submit.ts";

export interface KcidbSubmitOptions {
  dryRun?: boolean;
  /** Where the results directories are published: the tests' logs link there. */
  resultsUrl?: string;
}

/** A results.json, or a results directory holding one. */
export async function resultsFileOf(p: string): Promise<string> {
  const isDir = await stat(p).then((s) => s.isDirectory()).catch(() => false);
  return isDir ? path.join(p, RESULTS_FILE) : p;
}

export async function readResultsArgs(paths: string[]): Promise<{ file: string; run: RunResult }[]> {
  const out: { file: string; run: RunResult }[] = [];
  for (const p of paths) {
    const file = await resultsFileOf(p);
    out.push({ file, run: await readResults(file) });
  }
  return out;
}

export async function kcidbSubmitCommand(paths: string[], opts: KcidbSubmitOptions): Promise<number> {
  const runs = (await readResultsArgs(paths)).map((r) => r.run);
  const payload = kcidbPayload(runs, opts.resultsUrl ? { resultsUrl: opts.resultsUrl } : {});
  if (opts.dryRun) {
    process.stdout.write(JSON.stringify(payload, null, 2) + "\n");
    return 0;
  }
  const endpoint = kcidbEndpoint();
  try {
    const status = await submitKcidb(payload, endpoint);
    const n = (k: string) => (payload[k] as unknown[]).length;
    process.stdout.write(`submitted to ${endpoint.url} (HTTP ${status}): ${n("checkouts")} checkout(s), ${n("builds")} build(s), ${n("tests")} test(s), ${n("issues")} issue(s), ${n("incidents")} incident(s)\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`pcshare: ${(err as Error).message}\n`);
    return 1;
  }
}
