// `pcshare list` (the case catalog) and `pcshare report` (re-export an earlier results.json).
import path from "node:path";
import { ALL_CASES } from "../../cases/index.ts";
import { readResults, writeReports, parseReportFormat, REPORT_FORMATS } from "../report/index.ts";
import { compareRuns, formatComparison } from "../report/compare.ts";

export async function listCommand(opts: { json?: boolean }): Promise<number> {
  if (opts.json) {
    console.log(JSON.stringify(ALL_CASES.map(({ run: _run, ...c }) => c), null, 2));
    return 0;
  }
  for (const c of ALL_CASES) {
    const req = c.requires?.length ? ` [requires ${c.requires.join(", ")}]` : "";
    console.log(`${c.id.padEnd(4)} ${c.name}${c.debug ? " (debug)" : ""}${req}\n     ${c.expect}${c.concern ? `\n     concern: ${c.concern}` : ""}`);
  }
  return 0;
}

export async function reportCommand(file: string, opts: { format?: string[]; out?: string }): Promise<number> {
  const run = await readResults(file);
  const formats = opts.format?.length ? opts.format.flatMap((f) => f.split(",")).map(parseReportFormat) : [...REPORT_FORMATS];
  const written = await writeReports(run, path.resolve(opts.out ?? path.dirname(file)), formats);
  for (const p of Object.values(written)) console.log(p);
  return 0;
}

/** Exit status 1 when the patched run has new failures. */
export async function compareCommand(baseline: string, patched: string, opts: { json?: boolean }): Promise<number> {
  const cmp = compareRuns(await readResults(baseline), await readResults(patched));
  console.log(opts.json ? JSON.stringify(cmp, null, 2) : formatComparison(cmp));
  return cmp.newFailures.length ? 1 : 0;
}
