// `pcshare concerns [RESULTS]`: per review concern, what this kernel does in the cases that reproduce
// it (verdicts, what failed, one-line reproducers, excerpts) as plain text to paste into a review.
// Reads a results.json (no VM) when given one; otherwise runs the concern cases on --kernel first.
import path from "node:path";
import { stat } from "node:fs/promises";
import { ALL_CASES } from "../../cases/index.ts";
import { readResults, writeResults } from "../report/json.ts";
import { concernsText } from "../report/concerns.ts";
import { runSuite } from "../runner/run.ts";
import { applyKnownBugs } from "../verdict/known-bugs.ts";
import { knownBugsFor } from "../verdict/summary.ts";
import { specsOption } from "../images/commands.ts";
import { kernelFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import type { RunResult } from "../report/model.ts";

export interface ConcernsCliOptions extends GuestCliOptions {
  out?: string;
  knownBugs?: string | boolean;
}

export async function concernsCommand(results: string | undefined, opts: ConcernsCliOptions): Promise<number> {
  let run: RunResult;
  let shown: string;
  if (results) {
    const file = (await stat(results)).isDirectory() ? path.join(results, "results.json") : results;
    run = await readResults(file);
    shown = file;
  } else {
    const cases = ALL_CASES.filter((c) => c.concernTag);
    const kernel = await kernelFrom(opts);
    const outDir = path.resolve(opts.out ?? path.join("results", `concerns-${new Date().toISOString().replace(/[:.]/g, "-")}`));
    // Progress goes to stderr: stdout is the text to paste.
    process.stderr.write(`pcshare concerns: no results given: running the ${cases.length} concern cases on ${kernel.info.release} (${outDir})\n`);
    const raw = await runSuite({
      kernel, cases, outDir, specs: specsOption(undefined), memoryMiB: intOption(opts.memory, "--memory"), cpus: intOption(opts.cpus, "--cpus"),
      onResult: (r, i, n) => process.stderr.write(`[${i}/${n}] ${r.id} ${r.outcome}\n`),
    });
    run = applyKnownBugs(raw, await knownBugsFor(opts.knownBugs));
    shown = path.join(outDir, "results.json");
    await writeResults(run, shown);
  }
  const rel = path.relative(process.cwd(), shown);
  process.stdout.write(concernsText({ run, defs: ALL_CASES, resultsPath: rel && !rel.startsWith("..") ? rel : path.resolve(shown) }));
  return 0;
}
