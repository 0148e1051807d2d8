// `pcshare series SERIES`: does a patch series change what the suite sees? Builds the baseline kernel
// (the source without the series) and the patched one, runs the selected cases on both (results and
// every report format in <out>/baseline and <out>/patched), prints the comparison, writes
// comparison.json, and exits 1 when the patched kernel has new failures.
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { ALL_CASES } from "../../cases/index.ts";
import type { CaseDef } from "../runner/case.ts";
import { selectCases, type Selection } from "../runner/select.ts";
import { runSuite } from "../runner/run.ts";
import { writeReports } from "../report/index.ts";
import { compareRuns, formatComparison } from "../report/compare.ts";
import { summarize, type CaseResult, type RunResult } from "../report/model.ts";
import { resolveKernel, type KernelChoice } from "../kernel/resolve.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { DEFAULT_FRAGMENTS } from "../kernel/build.ts";
import { DEFAULT_SPECS } from "../images/commands.ts";
import { intOption } from "./kernel-options.ts";

export interface SeriesCliOptions extends Selection {
  tree?: string;
  debug?: boolean;
  fragment?: string[];
  out?: string;
  spec?: string[];
  memory: string;
}

/** The two builds `pcshare series` compares: the same source, fragments and debug, without and with the series. */
export function seriesChoices(series: string, opts: Pick<SeriesCliOptions, "tree" | "debug" | "fragment">): { baseline: KernelChoice; patched: KernelChoice } {
  const common: KernelChoice = { tree: opts.tree, debug: opts.debug ?? false, fragments: opts.fragment };
  // debug:false and no tree/fragments would name Debian's prebuilt kernel: force a build with the default fragments.
  const baseline: KernelChoice = common.tree || common.debug || common.fragments?.length ? common : { ...common, fragments: DEFAULT_FRAGMENTS };
  return { baseline, patched: { ...baseline, series } };
}

export function phase(text: string): void {
  process.stdout.write(`== ${text}\n`);
}

const MARK: Record<string, string> = { pass: "ok  ", fail: "FAIL", skip: "skip", xfail: "xfail", xpass: "XPASS", error: "ERR ", timeout: "TIME" };

function printResult(label: string): (r: CaseResult, i: number, total: number) => void {
  return (r, i, total) => {
    const why = r.outcome === "pass" ? "" : `  ${r.reason ?? ""}`;
    process.stdout.write(`  [${label} ${i}/${total}] ${MARK[r.outcome]} ${r.id} ${r.name} (${(r.durationMs / 1000).toFixed(1)} s)${why}\n`);
  };
}

export interface PhaseRun {
  kernel: Kernel;
  cases: CaseDef[];
  outDir: string;
  label: string;
  specFiles?: string[];
  memoryMiB?: number;
}

/** Run cases on one kernel with progress lines and write every report format into outDir. */
export async function runPhase(p: PhaseRun): Promise<RunResult> {
  const started = Date.now();
  phase(`${p.label}: running ${p.cases.length} case(s) on ${p.kernel.info.source} ${p.kernel.info.release}`);
  const run = await runSuite({
    kernel: p.kernel,
    cases: p.cases,
    outDir: p.outDir,
    specFiles: p.specFiles ?? DEFAULT_SPECS,
    memoryMiB: p.memoryMiB,
    onResult: printResult(p.label),
  });
  await writeReports(run, p.outDir);
  const counts = Object.entries(summarize(run)).filter(([, n]) => n).map(([o, n]) => `${n} ${o}`).join(", ");
  phase(`${p.label}: ${counts} in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${p.outDir}`);
  return run;
}

/** Build (or take from the cache) a kernel, with a progress line naming the phase. */
export async function buildPhase(label: string, choice: KernelChoice): Promise<Kernel> {
  const started = Date.now();
  phase(`${label}: building ${choice.tree ?? "Debian linux-source"}${choice.series ? ` + ${choice.series}` : ""}${choice.debug ? " (debug)" : ""}`);
  const kernel = await resolveKernel(choice);
  phase(`${label}: ${kernel.info.release} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${path.dirname(kernel.image)})`);
  return kernel;
}

export async function seriesCommand(series: string, opts: SeriesCliOptions): Promise<number> {
  const cases = selectCases(ALL_CASES, opts);
  if (cases.length === 0) throw new Error("the selection matches no case");
  const outDir = path.resolve(opts.out ?? path.join("results", `series-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  const memoryMiB = intOption(opts.memory, "--memory");
  const specFiles = opts.spec?.length ? opts.spec.map((s) => path.resolve(s)) : undefined;
  const choices = seriesChoices(series, opts);
  const baseKernel = await buildPhase("baseline", choices.baseline);
  const patchedKernel = await buildPhase("patched", choices.patched);
  const before = await runPhase({ kernel: baseKernel, cases, outDir: path.join(outDir, "baseline"), label: "baseline", specFiles, memoryMiB });
  const after = await runPhase({ kernel: patchedKernel, cases, outDir: path.join(outDir, "patched"), label: "patched", specFiles, memoryMiB });
  const cmp = compareRuns(before, after);
  await writeFile(path.join(outDir, "comparison.json"), JSON.stringify(cmp, null, 2) + "\n");
  phase("comparison");
  process.stdout.write(`${formatComparison(cmp)}\n\ncomparison: ${path.join(outDir, "comparison.json")}\n`);
  return cmp.newFailures.length ? 1 : 0;
}
