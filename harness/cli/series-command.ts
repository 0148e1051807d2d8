// `pcshare series SERIES`: does a patch series change what the suite sees? Builds the baseline kernel
// (the source without the series) and the patched one, runs the selected cases once on both (results
// and every report format in <out>/baseline and <out>/patched), then again, in further rounds
// (<out>/round-N/...), only the cases whose comparison is not yet decided, until everything is decided
// or the --budget is spent. Prints the comparison, writes comparison.json and comparison.md, and exits
// 1 on a significant new failure or exact figure gone worse, or when a run left cases missing.
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { ALL_CASES } from "../../cases/index.ts";
import type { CaseDef } from "../runner/case.ts";
import { selectCases, type Selection } from "../runner/select.ts";
import { runSuite } from "../runner/run.ts";
import { writeReports } from "../report/index.ts";
import { compareSamples, formatComparison, writeComparison, type Comparison } from "../report/compare.ts";
import { planRound, undecidedCases } from "../verdict/plan.ts";
import { summarize, type CaseResult, type RunResult } from "../report/model.ts";
import { resolveKernel, type KernelChoice } from "../kernel/resolve.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { DEFAULT_FRAGMENTS } from "../kernel/build.ts";
import { DEFAULT_SPECS, specsOption } from "../images/commands.ts";
import type { ImageSpec } from "../images/spec.ts";
import { applyKnownBugs } from "../verdict/known-bugs.ts";
import type { KnownBug } from "../verdict/known-bug-schema.ts";
import { knownBugLines, knownBugsFor, layeredPrinter } from "../verdict/summary.ts";
import { intOption } from "./kernel-options.ts";
import { resolveJobs } from "../runner/jobs.ts";
import { restoreModeFromEnv } from "../vm/snapshot.ts";

export interface SeriesCliOptions extends Selection {
  tree?: string;
  debug?: boolean;
  fragment?: string[];
  out?: string;
  spec?: string[];
  memory: string;
  /** Guests at once; default: resolveJobs (runner/jobs.ts), per run. */
  jobs?: string;
  /** Minutes of case running (after the builds) for the adaptive rounds. */
  budget?: string;
  knownBugs?: string | boolean;
}

export const DEFAULT_BUDGET_MIN = 20;

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

const MARK: Record<string, string> = { pass: "ok  ", fail: "FAIL", skip: "skip", xfail: "xfail", xpass: "XPASS", error: "ERR ", timeout: "TIME", missing: "MISS" };

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
  /** The image specs (default: those of images/). */
  specs?: Map<string, ImageSpec>;
  memoryMiB?: number;
  repeat?: number;
  /** Registered kernel bugs applied to the results (xfail/xpass). */
  bugs?: readonly KnownBug[];
  /** --jobs when given; else what the host allows for this run's cases (said on the phase line). */
  jobs?: number;
}

/** Run cases on one kernel with progress lines, apply the known bugs, and write every report format into outDir. */
export async function runPhase(p: PhaseRun): Promise<RunResult> {
  const started = Date.now();
  const bugs = p.bugs ?? [];
  const jobs = await resolveJobs({ given: p.jobs, kernel: p.kernel, cases: p.cases, repeat: p.repeat, memoryMiB: p.memoryMiB });
  phase(`${p.label}: running ${p.cases.length} case(s) on ${p.kernel.info.source} ${p.kernel.info.release}${p.jobs === undefined ? `; ${jobs.why}` : ""}`);
  const raw = await runSuite({
    kernel: p.kernel,
    cases: p.cases,
    outDir: p.outDir,
    specs: p.specs ?? DEFAULT_SPECS,
    memoryMiB: p.memoryMiB,
    repeat: p.repeat,
    jobs: jobs.jobs,
    restore: restoreModeFromEnv(),
    onResult: layeredPrinter(p.kernel.info, bugs, printResult(p.label)),
  });
  const run = applyKnownBugs(raw, bugs);
  await writeReports(run, p.outDir);
  for (const line of knownBugLines(run)) process.stdout.write(`  ${line}\n`);
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
  const budgetMs = budgetOption(opts.budget) * 60_000;
  const specs = specsOption(opts.spec);
  const bugs = await knownBugsFor(opts.knownBugs);
  const choices = seriesChoices(series, opts);
  const kernels = { baseline: await buildPhase("baseline", choices.baseline), patched: await buildPhase("patched", choices.patched) };
  const runs: RunResult[] = [];
  const jobs = opts.jobs === undefined ? undefined : intOption(opts.jobs, "--jobs");
  const cmp = await adaptiveComparison({ kernels, cases, outDir, budgetMs, specs, memoryMiB, jobs, bugs, onRun: (r) => runs.push(r) });
  await writeComparison(cmp, outDir);
  phase("comparison");
  process.stdout.write(`${formatComparison(cmp)}\n\ncomparison: ${path.join(outDir, "comparison.json")}, ${path.join(outDir, "comparison.md")}\n`);
  return seriesExitCode(runs, cmp.fails);
}

/**
 * 1 on a significant new failure, and also when any run left selected cases missing: a comparison
 * with holes did not do its job, whatever it found in the rest.
 */
export function seriesExitCode(runs: readonly RunResult[], fails: boolean): number {
  const missing = runs.flatMap((r) => r.cases).filter((c) => c.outcome === "missing").length;
  if (missing) process.stdout.write(`${missing} case run(s) missing: the comparison is incomplete\n`);
  return fails || missing ? 1 : 0;
}

/** --budget in minutes: a positive number. */
export function budgetOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_BUDGET_MIN;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--budget ${value}: expected a positive number of minutes`);
  return n;
}

export interface AdaptiveRun {
  kernels: { baseline: Kernel; patched: Kernel };
  cases: CaseDef[];
  outDir: string;
  budgetMs: number;
  specs?: Map<string, ImageSpec>;
  memoryMiB?: number;
  /** --jobs when given (else each run's default). */
  jobs?: number;
  bugs?: readonly KnownBug[];
  /** Called with each run as it finishes. */
  onRun?: (run: RunResult) => void;
}

/** Guest boot and image checks of one round on one side, before the first round measured it. */
const ROUND_OVERHEAD_MS = 15_000;

/**
 * One run a side, then rounds of the undecided cases on both kernels (the side that goes first
 * alternates, so a drift of the host's load does not always favour one side) until all is decided
 * or the budget (counted from the first run) would be exceeded. Prints the budget used.
 */
export async function adaptiveComparison(a: AdaptiveRun): Promise<Comparison> {
  const started = Date.now();
  const runs = { baseline: [] as RunResult[], patched: [] as RunResult[] };
  const files = { baseline: [] as string[], patched: [] as string[] };
  let overheadMs = ROUND_OVERHEAD_MS;
  const round = async (n: number, cases: CaseDef[], repeat: number) => {
    const order = n % 2 === 1 ? (["baseline", "patched"] as const) : (["patched", "baseline"] as const);
    for (const side of order) {
      const dir = n === 1 ? path.join(a.outDir, side) : path.join(a.outDir, `round-${n}`, side);
      const t0 = Date.now();
      const label = n === 1 ? side : `${side} round ${n}`;
      const run = await runPhase({ kernel: a.kernels[side], cases, outDir: dir, label, specs: a.specs, memoryMiB: a.memoryMiB, repeat, bugs: a.bugs, jobs: a.jobs });
      overheadMs = Math.max(0, Date.now() - t0 - run.cases.reduce((s, c) => s + c.durationMs, 0));
      runs[side].push(run);
      a.onRun?.(run);
      files[side].push(path.join(dir, "results.json"));
    }
  };
  const compare = () => compareSamples({ runs: runs.baseline, files: files.baseline }, { runs: runs.patched, files: files.patched });
  await round(1, a.cases, 1);
  let cmp = compare();
  let samples = 1;
  for (let n = 2; ; n++) {
    const plan = planRound(cmp, [...runs.baseline, ...runs.patched], samples, a.budgetMs - (Date.now() - started), overheadMs);
    if (!plan) break;
    phase(`round ${n}: ${plan.cases.length} undecided case(s) (${plan.cases.join(", ")}) x${plan.repeat} on both kernels, ~${(plan.estimateMs / 60_000).toFixed(1)} min`);
    await round(n, a.cases.filter((c) => plan.cases.includes(c.id)), plan.repeat);
    samples += plan.repeat;
    cmp = compare();
  }
  const left = undecidedCases(cmp);
  const used = ((Date.now() - started) / 60_000).toFixed(1);
  phase(`budget: ${used} of ${+(a.budgetMs / 60_000).toFixed(1)} min used (the first round always runs); ${left.length ? `still undecided: ${left.join(", ")}` : "every item decided"}`);
  return cmp;
}
