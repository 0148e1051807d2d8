// `pcshare list` (the case catalog) and `pcshare report` (re-export an earlier results.json).
import path from "node:path";
import { ALL_CASES } from "../../cases/index.ts";
import { readResults, writeReports, parseReportFormat, REPORT_FORMATS } from "../report/index.ts";
import { compareSamples, formatComparison, writeComparison } from "../report/compare.ts";
import type { RunResult } from "../report/model.ts";
import { caseTitle } from "../report/common.ts";
import { applyKnownBugs, withoutKnownBugs } from "../verdict/known-bugs.ts";
import { knownBugsFor } from "../verdict/summary.ts";

export async function listCommand(opts: { json?: boolean }): Promise<number> {
  if (opts.json) {
    console.log(JSON.stringify(ALL_CASES.map(({ run: _run, ...c }) => c), null, 2));
    return 0;
  }
  for (const c of ALL_CASES) {
    const req = c.requires?.length ? ` [requires ${c.requires.join(", ")}]` : "";
    console.log(`${c.id.padEnd(4)} ${c.name}${c.debug ? " (debug)" : ""}${req}\n     ${c.expect}${c.concern ? `\n     concern [${c.concernTag}]: ${c.concern}` : ""}${c.hostSteps ? `\n     no repro bundle: ${c.hostSteps}` : ""}`);
  }
  return 0;
}

export interface ReportCliOptions {
  format?: string[];
  out?: string;
  /** A known-bugs dir to judge the run again with; false: judge it with none (commander's --no-known-bugs). */
  knownBugs?: string | boolean;
}

/**
 * Re-exports a results.json. With --known-bugs DIR or --no-known-bugs the run is judged again first
 * (each case's raw outcome through that registry), e.g. after registering a bug or sharpening its
 * signature; the cases whose verdict changed are listed.
 */
export async function reportCommand(file: string, opts: ReportCliOptions): Promise<number> {
  const recorded = await readResults(file);
  const run = opts.knownBugs === undefined ? recorded : applyKnownBugs(withoutKnownBugs(recorded), await knownBugsFor(opts.knownBugs));

  const formats = opts.format?.length ? opts.format.flatMap((f) => f.split(",")).map(parseReportFormat) : [...REPORT_FORMATS];
  const written = await writeReports(run, path.resolve(opts.out ?? path.dirname(file)), formats);
  if (run !== recorded) for (const line of verdictChanges(recorded, run)) console.log(line);
  for (const p of Object.values(written)) console.log(p);
  return 0;
}

/** One line per case whose outcome differs between two judgements of the same run, and a count. */
export function verdictChanges(before: RunResult, after: RunResult): string[] {
  const lines = after.cases.flatMap((c, i) => {
    const was = before.cases[i];
    if (was.outcome === c.outcome) return [];
    return [`  ${caseTitle(c)}: ${was.outcome} -> ${c.outcome}${c.reason ? `  ${c.reason}` : ""}`];
  });
  return [`judged again: ${lines.length} of ${after.cases.length} verdict(s) changed`, ...lines];
}

export interface CompareCliOptions {
  baseline?: string[];
  patched?: string[];
  json?: boolean;
  out?: string;
}

/** The two sides from `compare A B` or `compare --baseline A1 A2 --patched B1 B2`. */
export function compareSides(positional: string[], opts: CompareCliOptions): { baseline: string[]; patched: string[] } {
  if (opts.baseline?.length || opts.patched?.length) {
    if (positional.length) throw new Error("compare: give either two results files or --baseline/--patched lists, not both");
    if (!opts.baseline?.length || !opts.patched?.length) throw new Error("compare: --baseline and --patched each need at least one results.json");
    return { baseline: opts.baseline, patched: opts.patched };
  }
  if (positional.length !== 2) throw new Error(`compare: expected BASELINE PATCHED (two results.json), got ${positional.length} file(s); for several a side use --baseline ... --patched ...`);
  return { baseline: [positional[0]], patched: [positional[1]] };
}

/** Pools each side's results files and judges them; exit 1 on a significant change for the worse. */
export async function compareCommand(positional: string[], opts: CompareCliOptions): Promise<number> {
  const sides = compareSides(positional, opts);
  const load = async (files: string[]) => ({ runs: await Promise.all(files.map((f) => readResults(f))), files });
  const cmp = compareSamples(await load(sides.baseline), await load(sides.patched));
  if (opts.out) {
    const written = await writeComparison(cmp, path.resolve(opts.out));
    if (!opts.json) console.log(`${written.join("\n")}\n`);
  }
  console.log(opts.json ? JSON.stringify(cmp, null, 2) : formatComparison(cmp));
  return cmp.fails ? 1 : 0;
}
