// The nightly: the suite on every kernel of the matrix (nightly/kernels.yaml), each split into shards
// and merged per kernel. A plain tsx script driving bin/pcshare through execa (see docs/nightly.md).
//   tsx scripts/nightly.ts [all] [--kernels sid,trixie] [--only F1,I1] [--repeat N] [--out DIR] [--durations-from DIR]
//       every kernel x shard one after another on this machine, then one merge per kernel, and
//       DIR/summary.md; exit 0 only when every kernel's merged run has no failing outcome
//   tsx scripts/nightly.ts matrix [--kernels ...]        the CI job matrix as JSON ({"include":[...]})
//   tsx scripts/nightly.ts kernels [--kernels ...]       the kernel names as JSON (the CI merge jobs)
//   tsx scripts/nightly.ts shard KERNEL I/N --out DIR    one shard (a CI job); DIR/<kernel>/shard-I
//   tsx scripts/nightly.ts merge KERNEL --out DIR        merge the shards found under DIR/<kernel>/
import { writeFile, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { execa } from "execa";
import { loadMatrix, kernelEntry, shardCount, type Matrix } from "../harness/nightly/matrix.ts";
import { checkoutTree, ciMatrix, mergeArgs, mergedDir, selectedKernels, shardJobs, shardRunArgs, type NightlyOptions, type ShardJob } from "../harness/nightly/plan.ts";
import { summarize, outcomeCounts, type RunResult } from "../harness/report/model.ts";
import { ALL_CASES } from "../cases/index.ts";
import { selectCases } from "../harness/runner/select.ts";
import { checkWritableDir, InputError, intIn, LIMITS } from "../harness/cli/validate.ts";
import { oneLineUsageErrors, usageExitCode } from "../harness/cli/usage-errors.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PCSHARE = path.join(ROOT, "bin", "pcshare");
const csv = (v?: string) => v?.split(",").map((s) => s.trim()).filter(Boolean);

/** Run bin/pcshare with the output shown; its exit code. */
async function pcshare(args: string[]): Promise<number> {
  process.stdout.write(`\n$ pcshare ${args.join(" ")}\n`);
  const r = await execa(PCSHARE, args, { stdio: "inherit", reject: false });
  return r.exitCode ?? 128;
}

async function runShard(m: Matrix, job: ShardJob, opts: NightlyOptions): Promise<number> {
  const tree = await checkoutTree(kernelEntry(m, job.kernel));
  return pcshare(shardRunArgs(m, job, opts, tree));
}

/** One line per kernel for summary.md: its outcome counts, or why there is no merged run. */
async function summaryLine(outRoot: string, kernel: string, code: number): Promise<string> {
  const file = path.join(mergedDir(outRoot, kernel), "results.json");
  const run = JSON.parse(await readFile(file, "utf8").catch(() => "null")) as RunResult | null;
  if (!run) return `| ${kernel} | - | no merged results (merge exit ${code}) |`;
  const missing = run.merged?.missing.length ? `; shard(s) ${run.merged.missing.join(", ")} never reported` : "";
  return `| ${kernel} | ${run.kernel.release} | ${outcomeCounts(summarize(run))}${missing} |`;
}

async function all(m: Matrix, out: string, opts: NightlyOptions): Promise<number> {
  const jobs = shardJobs(m, out, opts.kernels);
  const shardCodes: number[] = [];
  for (const job of jobs) {
    process.stdout.write(`\n== ${job.kernel} shard ${job.index}/${job.count} ==\n`);
    shardCodes.push(await runShard(m, job, opts));
  }
  const lines = ["| kernel | release | outcomes |", "|---|---|---|"];
  let failed = shardCodes.some((c) => c > 1); // 1: cases failed (the merge says so too); more: the shard itself broke
  for (const k of selectedKernels(m, opts.kernels)) {
    process.stdout.write(`\n== ${k.name}: merge ==\n`);
    const code = await pcshare(await mergeArgs(m, k.name, out));
    failed ||= code !== 0;
    lines.push(await summaryLine(out, k.name, code));
  }
  await writeFile(path.join(out, "summary.md"), `# pcshare nightly\n\n${lines.join("\n")}\n`);
  process.stdout.write(`\n${lines.join("\n")}\n\nsummary: ${path.join(out, "summary.md")}\n`);
  return failed ? 1 : 0;
}

const program = oneLineUsageErrors(new Command(), "nightly", "npx tsx scripts/nightly.ts").name("nightly").option("--matrix <file>", "kernel matrix", path.join(ROOT, "nightly", "kernels.yaml"));
const common = (c: Command) =>
  c.option("--kernels <names>", "only these kernels of the matrix (comma-separated)")
    .option("--only <ids>", "case selection for every kernel, replacing the matrix's (comma-separated ids)")
    .option("--durations-from <dir>", "a previous nightly's output: its merged results balance the shards")
    .option("--repeat <n>", "run every case n times on every kernel, replacing the matrix's repeat (pcshare regressions decides with repeats)");
/** The options every kernel shares, checked before any shard runs (a bad one would fail every shard alike). */
async function nightlyOpts(o: Record<string, string | undefined>): Promise<NightlyOptions> {
  const only = csv(o.only);
  if (only) selectCases(ALL_CASES, { only }); // an unknown id: "no case matches ..."
  if (o.durationsFrom !== undefined && !(await stat(o.durationsFrom).then((s) => s.isDirectory(), () => false))) {
    throw new InputError(`--durations-from ${o.durationsFrom}: no such directory; give the output directory of an earlier nightly (its <kernel>/merged/results.json balance the shards)`);
  }
  const repeat = o.repeat === undefined ? undefined : intIn(o.repeat, "--repeat", LIMITS.repeat);
  return { kernels: csv(o.kernels), only, durationsFrom: o.durationsFrom, ...(repeat && { repeat }) };
}
const stamp = () => path.join(ROOT, "results", `nightly-${new Date().toISOString().replace(/[:.]/g, "-")}`);
const matrix = () => loadMatrix(program.opts().matrix as string);

common(program.command("all", { isDefault: true }).description("every kernel x shard here, then merge per kernel").option("--out <dir>", "output directory (default results/nightly-<timestamp>)"))
  .action(async (o) => {
    const m = await matrix();
    const opts = await nightlyOpts(o);
    selectedKernels(m, opts.kernels);
    const out = path.resolve(o.out ?? stamp());
    await checkWritableDir(o.out ?? out, "--out");
    process.exitCode = await all(m, out, opts);
  });
program.command("matrix").description("the CI job matrix (kernel x shard) as JSON").option("--kernels <names>", "only these kernels")
  .action(async (o) => void process.stdout.write(`${JSON.stringify(ciMatrix(await matrix(), csv(o.kernels)))}\n`));
program.command("kernels").description("the matrix's kernel names as a JSON array").option("--kernels <names>", "only these kernels")
  .action(async (o) => void process.stdout.write(`${JSON.stringify(selectedKernels(await matrix(), csv(o.kernels)).map((k) => k.name))}\n`));
common(program.command("shard").description("run one shard of one kernel").argument("<kernel>").argument("<i/n>").requiredOption("--out <dir>", "output directory"))
  .action(async (kernel: string, shard: string, o) => {
    const m = await matrix();
    const count = shardCount(m, kernelEntry(m, kernel));
    const job = shardJobs(m, path.resolve(o.out), [kernel]).find((j) => `${j.index}/${count}` === shard);
    if (!job) throw new InputError(`shard ${shard}: kernel ${kernel} has ${count} shard(s) in ${m.file}; give I/${count} with 1 <= I <= ${count}`);
    process.exitCode = await runShard(m, job, await nightlyOpts(o));
  });
program.command("merge").description("merge the shards of one kernel found under --out").argument("<kernel>").requiredOption("--out <dir>", "output directory")
  .action(async (kernel: string, o) => {
    process.exitCode = await pcshare(await mergeArgs(await matrix(), kernel, path.resolve(o.out)));
  });

program.parseAsync().catch((err: Error) => {
  const usage = usageExitCode(err); // commander printed its one line already
  if (usage !== undefined) return void (process.exitCode = usage);
  process.stderr.write(`nightly: ${err.message}\n`);
  process.exitCode = 2;
});
