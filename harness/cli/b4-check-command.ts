// `pcshare b4-check`: a check command for b4's review mode. Reads the patch or series (an mbox) on
// stdin, or for a cover letter the series range in b4's tracking file; checks that the series applies
// to the tree (on a scratch copy of the files it touches, before any build); then builds the kernel
// without and with it and runs the selected cases A/B as `pcshare series` does; prints b4's JSON
// array on stdout. Progress goes to stderr: stdout is b4's.
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { text } from "node:stream/consumers";
import { ALL_CASES } from "../../cases/index.ts";
import { selectCases } from "../runner/select.ts";
import { writeComparison } from "../report/compare.ts";
import type { RunResult } from "../report/model.ts";
import { applySeries, loadSeries, PatchApplyError, type Series } from "../kernel/series.ts";
import { debianSource, userTree } from "../kernel/source.ts";
import { ownedTempDir } from "../util/temp.ts";
import { knownBugsFor } from "../verdict/summary.ts";
import { applyFailure, buildFailure, comparisonResult, patchesIn, renderB4, trackedRange, type B4Result } from "../b4/check.ts";
import { adaptiveComparison, budgetOption, buildPhase, seriesChoices, type SeriesCliOptions } from "./series-command.ts";
import { intOption } from "./kernel-options.ts";
import { specsOption } from "../images/commands.ts";
import { InputError } from "../util/input-error.ts";

/** Runs `f` with everything written to stdout sent to stderr instead. */
async function stdoutToStderr<T>(f: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await f();
  } finally {
    process.stdout.write = write;
  }
}

/** Applies the series to a scratch copy of the files it touches; the failure as b4 shows it, or undefined. */
export async function seriesApplies(series: Series, treeDir: string): Promise<B4Result | undefined> {
  const scratch = await ownedTempDir("pcshare-b4-apply-");
  try {
    for (const f of new Set(series.patches.flatMap((p) => p.files))) {
      await mkdir(path.dirname(path.join(scratch, f)), { recursive: true });
      await copyFile(path.join(treeDir, f), path.join(scratch, f)).catch(() => undefined); // a file the series creates
    }
    await applySeries(series, scratch);
    return undefined;
  } catch (err) {
    if (err instanceof PatchApplyError) return applyFailure(err);
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function check(spec: string, opts: SeriesCliOptions): Promise<B4Result[]> {
  const cases = selectCases(ALL_CASES, opts);
  if (cases.length === 0) throw new Error("the selection matches no case");
  const source = opts.tree ? await userTree(opts.tree) : await debianSource();
  const refused = await seriesApplies(await loadSeries(spec, source), source.dir);
  if (refused) return [refused];
  const outDir = path.resolve(opts.out ?? path.join("results", `b4-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  const choices = seriesChoices(spec, opts);
  const build = async (side: "baseline" | "patched") => buildPhase(side, choices[side]).catch((err: Error) => err);
  const baseline = await build("baseline");
  if (baseline instanceof Error) return [buildFailure("baseline", baseline)];
  const patched = await build("patched");
  if (patched instanceof Error) return [buildFailure("patched", patched)];
  const runs: RunResult[] = [];
  const cmp = await adaptiveComparison({
    kernels: { baseline, patched }, cases, outDir, budgetMs: budgetOption(opts.budget) * 60_000,
    specs: specsOption(opts.spec), memoryMiB: intOption(opts.memory, "--memory"),
    bugs: await knownBugsFor(opts.knownBugs), onRun: (r) => runs.push(r),
  });
  const [, md] = await writeComparison(cmp, outDir);
  const missing = runs.flatMap((r) => r.cases).filter((c) => c.outcome === "missing").length;
  return [comparisonResult(cmp, missing, pathToFileURL(md).href)];
}

export async function b4CheckCommand(opts: SeriesCliOptions): Promise<number> {
  selectCases(ALL_CASES, opts); // an unknown --only/--skip id is refused before reading stdin
  const message = await text(process.stdin);
  if (!message.trim()) throw new InputError("b4-check: nothing on stdin; b4 pipes the patch or the cover letter there (by hand: pcshare b4-check < series.mbox)");
  const work = await ownedTempDir("pcshare-b4-");
  try {
    let spec: string;
    if (patchesIn(message)) {
      spec = path.join(work, "series.mbox");
      await writeFile(spec, message);
    } else {
      const range = await trackedRange(process.env.B4_TRACKING_FILE);
      if (!range || !opts.tree) {
        process.stderr.write(`pcshare b4-check: no patch on stdin${range ? " and no --tree (a git checkout) to take the series range from" : " and no series range in B4_TRACKING_FILE"}: nothing to report\n`);
        process.stdout.write(renderB4([]));
        return 0;
      }
      spec = range;
    }
    const results = await stdoutToStderr(() => check(spec, opts));
    process.stdout.write(renderB4(results));
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
