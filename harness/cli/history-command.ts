// `pcshare history` (list recorded runs, `history add RESULTS...` imports results directories),
// `pcshare trend MEASUREMENT` (SVG chart of a figure over kernels and dates) and `pcshare regressions`
// (per kernel, the latest run against the previous one; exit 1 on a significant change for the worse).
// `pcshare run` records every run through recordRun().
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import pkg from "../../package.json" with { type: "json" };
import type { RunResult } from "../report/model.ts";
import { formatComparison } from "../report/compare.ts";
import { historyFile, openHistory, updateHistory, type Database } from "../history/store.ts";
import { insertRun, type RecordMeta } from "../history/record.ts";
import { latestAgainstPrevious, listRuns, recorded, trendPoints, type RunSummary } from "../history/query.ts";
import { InputError } from "../util/input-error.ts";
import { runLabel, trendChart, trendSeries } from "../history/trend.ts";
import { readResultsArgs } from "./kcidb-command.ts";
import { intOption } from "./kernel-options.ts";
import type { Command } from "commander";

export interface HistoryOptions {
  /** --history FILE; false with --no-history (run only). */
  history?: string | boolean;
  kernel?: string;
  last?: string;
  json?: boolean;
  label?: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** pcshare's version, and the git commit when it runs from a checkout. */
export async function pcshareVersion(): Promise<Pick<RecordMeta, "pcshareVersion" | "pcshareCommit">> {
  const r = await execa("git", ["-C", ROOT, "rev-parse", "HEAD"], { reject: false });
  return { pcshareVersion: pkg.version, ...(r.exitCode === 0 && { pcshareCommit: r.stdout.trim() }) };
}

const fileOf = (o: HistoryOptions) => historyFile(typeof o.history === "string" ? o.history : undefined);

/** Up to `n` names, then how many more. */
const some = (names: string[], n = 6) => `${names.slice(0, n).join("; ")}${names.length > n ? `; and ${names.length - n} more` : ""}`;

/** A --kernel or --label filter that matches no recorded run is a mistake: say what is recorded. */
function checkFilters(db: Database, file: string, o: HistoryOptions): void {
  if (!listRuns(db, {}).length) throw new InputError(`${file}: no run recorded; record runs with pcshare run, pcshare merge or pcshare history add`);
  if (o.kernel && !listRuns(db, { kernel: o.kernel }).length) {
    throw new InputError(`--kernel ${o.kernel}: no recorded kernel contains it (recorded: ${some(recorded(db, "kernel_key"))}); give part of one of them`);
  }
  if (o.label && !listRuns(db, { label: o.label }).length) {
    const labels = recorded(db, "label");
    throw new InputError(`--label ${o.label}: no recorded run has this label (${labels.length ? `recorded: ${some(labels)}` : "no run has one"}); ${labels.length ? "give one of them" : "label runs with --label"} or leave --label out`);
  }
}

/** Appends a finished run to the history; returns a line saying where, or a warning (a run is not failed by its history). */
/** --history, --no-history and --label of a command whose run (`what`: "run", "merged run") is recorded. */
export function addRecordOptions(cmd: Command, what = "run"): Command {
  return cmd
    .option("--history <file>", `history database the ${what} is appended to (default $PCSHARE_HISTORY, else ~/.local/share/pcshare/history.sqlite)`)
    .option("--no-history", `do not record the ${what} in the history`)
    .option("--label <text>", `label of the ${what} in the history (e.g. nightly)`);
}

export async function recordRun(run: RunResult, outDir: string, o: HistoryOptions): Promise<string> {
  if (o.history === false) return "";
  if ((run as RunResult & { shard?: unknown }).shard) return "history: a shard is recorded once merged (pcshare history add MERGED-RESULTS)\n";
  const file = fileOf(o);
  try {
    const meta = { ...(await pcshareVersion()), results: outDir, ...(o.label && { label: o.label }) };
    await updateHistory(file, (db) => insertRun(db, run, meta));
    return `history: ${file}\n`;
  } catch (err) {
    return `pcshare: warning: the run was not recorded in ${file}: ${(err as Error).message}\n`;
  }
}

export async function historyAddCommand(paths: string[], o: HistoryOptions): Promise<number> {
  const file = fileOf(o);
  const loaded = await readResultsArgs(paths);
  const version = await pcshareVersion();
  const added = await updateHistory(file, (db) => loaded.map(({ file: f, run }) => insertRun(db, run, { ...version, results: path.dirname(path.resolve(f)), ...(o.label && { label: o.label }) })));
  loaded.forEach(({ file: f }, i) => process.stdout.write(`${added[i] ? "added" : "already recorded"}: ${f}\n`));
  process.stdout.write(`history: ${file}\n`);
  return 0;
}

function summaryLine(r: RunSummary): string {
  const counts = Object.entries(r.outcomes).map(([o, n]) => `${n} ${o}`).join(", ");
  return `${String(r.id).padStart(4)}  ${r.startedAt}  ${r.kernel}  ${r.host}  pcshare ${r.pcshareVersion}${r.pcshareCommit ? ` ${r.pcshareCommit.slice(0, 10)}` : ""}${r.label ? `  [${r.label}]` : ""}\n      ${counts}${r.results ? `  (${r.results})` : ""}`;
}

export async function historyListCommand(o: HistoryOptions): Promise<number> {
  const file = fileOf(o);
  const db = await openHistory(file);
  try {
    checkFilters(db, file, o);
    const runs = listRuns(db, { kernel: o.kernel, label: o.label, ...(o.last !== undefined && { last: intOption(o.last, "--last") }) });
    if (o.json) process.stdout.write(JSON.stringify(runs, null, 2) + "\n");
    else {
      process.stdout.write(`${runs.length} run(s) in ${file}; kernel = release, source, config hash, series hash\n`);
      for (const r of runs) process.stdout.write(`${summaryLine(r)}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}

export async function trendCommand(measurement: string, o: HistoryOptions & { case?: string; out?: string }): Promise<number> {
  const file = fileOf(o);
  const db = await openHistory(file);
  try {
    checkFilters(db, file, o);
    const points = trendPoints(db, measurement, { kernel: o.kernel, label: o.label, caseId: o.case });
    if (!points.length) {
      throw new InputError(`no measurement "${measurement}"${o.case ? ` in case ${o.case}` : ""}${o.kernel ? ` on kernels containing ${o.kernel}` : ""} in ${file} (recorded: ${some(recorded(db, "measurement"), 12)}); names are as in results.json (e.g. pages, or name[series]@x)`);
    }
    const out = path.resolve(o.out ?? `trend-${measurement.replace(/[^A-Za-z0-9_.-]+/g, "_")}.svg`);
    await writeFile(out, trendChart(measurement, points));
    const { leftOut } = trendSeries(points);
    for (const p of points) process.stdout.write(`${runLabel(p).padEnd(40)} ${p.caseId} ${p.figure}: ${p.value} ${p.unit}${p.samples > 1 ? ` (median of ${p.samples})` : ""}\n`);
    if (leftOut.length) process.stdout.write(`not charted (another unit than ${points[0].unit}): ${leftOut.join(", ")}\n`);
    process.stdout.write(`chart: ${out}\n`);
    return 0;
  } finally {
    db.close();
  }
}

/**
 * The last line of `pcshare regressions`: regressions found, else "no significant regression", and
 * whether that is decided or only undecided for want of samples (a single run a side decides nothing
 * about outcomes: Fisher's test needs repetitions).
 */
export function regressionsVerdict(compared: ReturnType<typeof latestAgainstPrevious>["compared"]): string {
  const bad = compared.filter((r) => r.comparison.fails);
  const open = compared.reduce((n, r) => n + r.comparison.inconclusive.length, 0);
  const head = bad.length ? `REGRESSION on ${bad.length} kernel(s): ${bad.map((r) => r.kernel).join("; ")}` : "no significant regression";
  const undecided = open ? `; ${open} change(s) inconclusive, not judged either way: repeat the cases (pcshare run --repeat 3 or more, nightly repeat: in the matrix) to decide them` : "";
  return `${head} (${compared.length} kernel(s) compared)${undecided}`;
}

export async function regressionsCommand(o: HistoryOptions): Promise<number> {
  const file = fileOf(o);
  const db = await openHistory(file);
  let result: ReturnType<typeof latestAgainstPrevious>;
  try {
    checkFilters(db, file, o);
    result = latestAgainstPrevious(db, { kernel: o.kernel, label: o.label });
  } finally {
    db.close();
  }
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else {
    for (const r of result.compared) process.stdout.write(`== ${r.kernel}: run ${r.latest.id} against run ${r.previous.id}\n${formatComparison(r.comparison)}\n\n`);
    for (const r of result.single) process.stdout.write(`== ${r.kernel}: one run only (${r.id}), nothing to compare\n`);
    process.stdout.write(`${regressionsVerdict(result.compared)}\n`);
  }
  return result.compared.some((r) => r.comparison.fails) ? 1 : 0;
}
