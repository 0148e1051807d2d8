// `pcshare run` (= npm run suite): the whole suite (or a selection) on one kernel, with live
// progress, results in every format, and an exit status that is non-zero when a case fails or is
// missing (128 + the signal's number when interrupted).
import path from "node:path";
import { ALL_CASES } from "../../cases/index.ts";
import { selectCases } from "../runner/select.ts";
import { shardCases } from "../runner/shard.ts";
import { runSuite } from "../runner/run.ts";
import { writeReports, REPORT_FILES } from "../report/index.ts";
import { failingOutcomes, summarize, repeatStability, outcomeCounts, type CaseResult } from "../report/model.ts";
import { applyKnownBugs } from "../verdict/known-bugs.ts";
import { knownBugLines, knownBugsFor, layeredPrinter } from "../verdict/summary.ts";
import { kernelFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import { hasPageCacheShare } from "../kernel/kernel.ts";
import { specsOption } from "../images/commands.ts";
import { onInterrupt, signalExitCode } from "../vm/reaper.ts";
import { resolveJobs } from "../runner/jobs.ts";
import { restoreModeFromEnv, type RestoreMode } from "../vm/snapshot.ts";
import { defaultVariantSeed } from "../runner/variants.ts";
import { intIn } from "./validate.ts";
import { recordRun, type HistoryOptions } from "./history-command.ts";

export interface RunCliOptions extends GuestCliOptions, Pick<HistoryOptions, "history" | "label"> {
  only?: string[];
  skip?: string[];
  tag?: string[];
  repeat: string;
  /** Guests at once; default: resolveJobs (runner/jobs.ts). */
  jobs?: string;
  /** Start guests from a snapshot (default PCSHARE_RESTORE, else auto). */
  restore?: RestoreMode;
  out?: string;
  spec?: string[];
  /** Directory of registered kernel bugs; false with --no-known-bugs. */
  knownBugs?: string | boolean;
  /** xpass (a registered bug did not show) fails the run too. */
  strict?: boolean;
  /** Run only shard "i/n" of the selection. */
  shard?: string;
  /** Run every variant of every case (default: rotating cases run their window for the seed). */
  allVariants?: boolean;
  /** Seed that picks the rotating cases' variants (default: the UTC day). */
  variantSeed?: string;
  /** Results files that weigh the shards; false with --no-durations (declared timeouts only). */
  durations?: string[] | boolean;
}

const MARK: Record<string, string> = { pass: "ok  ", fail: "FAIL", skip: "skip", xfail: "xfail", xpass: "XPASS", error: "ERR ", timeout: "TIME", missing: "MISS" };

function printResult(r: CaseResult, i: number, total: number): void {
  const rep = (r.repeat ? ` (repeat ${r.repeat})` : "") + (r.variants ? ` [${r.variants.join(",")}]` : "");
  const why = r.outcome === "pass" ? "" : `  ${r.reason ?? ""}`;
  process.stdout.write(`[${String(i).padStart(String(total).length)}/${total}] ${MARK[r.outcome]} ${r.id} ${r.name}${rep} (${(r.durationMs / 1000).toFixed(1)} s)${why}\n`);
}

export async function runCommand(opts: RunCliOptions): Promise<number> {
  const selected = selectCases(ALL_CASES, opts);
  if (selected.length === 0) throw new Error("the selection matches no case");
  const durations = opts.durations === false ? [] : Array.isArray(opts.durations) ? opts.durations : undefined;
  const sharded = opts.shard ? await shardCases(selected, { shard: opts.shard, durations }) : undefined;
  const cases = sharded?.cases ?? selected;
  if (sharded) process.stdout.write(`pcshare: shard ${opts.shard}: ${cases.length} of ${selected.length} selected cases (weighed by ${describeWeights(sharded.info.weighedBy)})\n`);
  const bugs = await knownBugsFor(opts.knownBugs);
  const specs = specsOption(opts.spec);
  const kernel = await kernelFrom(opts);
  const outDir = path.resolve(opts.out ?? path.join("results", new Date().toISOString().replace(/[:.]/g, "-")));
  process.stdout.write(
    `pcshare: ${cases.length} cases on ${kernel.info.release} (${kernel.info.source}${hasPageCacheShare(kernel) ? "" : ", page cache sharing ABSENT: sharing cases skip"})\n`,
  );
  const repeat = intOption(opts.repeat, "--repeat");
  const variants = { seed: opts.variantSeed === undefined ? defaultVariantSeed() : intIn(opts.variantSeed, "--variant-seed", { min: 0, max: Number.MAX_SAFE_INTEGER }), all: opts.allVariants ?? false };
  if (cases.some((c) => c.variantsPerRun)) process.stdout.write(`pcshare: variants: ${variants.all ? "all" : `rotating by seed ${variants.seed} (--variant-seed ${variants.seed} repeats this choice, --all-variants runs all)`}\n`);
  const memoryMiB = intOption(opts.memory, "--memory");
  const cpus = intOption(opts.cpus, "--cpus");
  const given = opts.jobs === undefined ? undefined : intOption(opts.jobs, "--jobs");
  const jobs = await resolveJobs({ given, kernel, cases, repeat, memoryMiB, cpus });
  if (given === undefined) process.stdout.write(`pcshare: ${jobs.why}\n`);
  // The first Ctrl-C (or SIGTERM) stops the run: the guests are killed, the cases not finished are
  // reported as missing and the results are still written; a second one exits at once.
  const interrupt = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const release = onInterrupt((sig) => {
    signalled = sig;
    process.stderr.write(`\npcshare: ${sig}: stopping the run (again to quit at once)\n`);
    interrupt.abort(new Error(sig));
  });
  const raw = await runSuite({
    kernel,
    cases,
    outDir,
    specs,
    repeat,
    variants,
    memoryMiB,
    cpus,
    jobs: jobs.jobs,
    restore: opts.restore ?? restoreModeFromEnv(),
    onResult: layeredPrinter(kernel.info, bugs, printResult),
    signal: interrupt.signal,
  }).finally(release);
  const run = { ...applyKnownBugs(raw, bugs), ...(sharded && { shard: sharded.info }) };
  const files = await writeReports(run, outDir);
  const counts = summarize(run);
  const varied = repeatStability(run).filter((c) => c.varies);
  if (varied.length) {
    process.stdout.write(`\nverdicts that varied across the ${opts.repeat} repetitions:\n`);
    for (const c of varied) process.stdout.write(`  ${c.id} ${c.name}: ${outcomeCounts(c.outcomes)}\n`);
  }
  const known = knownBugLines(run);
  if (known.length) process.stdout.write(`\n${known.join("\n")}\n`);
  process.stdout.write(
    `\n${Object.entries(counts).filter(([, n]) => n).map(([o, n]) => `${n} ${o}`).join(", ")}\n` +
      `report: ${files.html ?? path.join(outDir, REPORT_FILES.html)}\nresults: ${outDir}\n`,
  );
  process.stdout.write(await recordRun(run, outDir, opts));
  if (signalled) return signalExitCode(signalled);
  const failing = failingOutcomes(opts.strict ?? false);
  return run.cases.some((c) => failing.has(c.outcome)) ? 1 : 0;
}

function describeWeights(w: string[] | "timeouts"): string {
  return w === "timeouts" ? "declared timeouts: no earlier results" : `durations in ${w.map((f) => path.relative(process.cwd(), f)).join(", ")}`;
}
