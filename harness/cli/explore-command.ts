// `pcshare explore`: draw programs from a seed, run them (several per guest) against the model of the
// documented rules, shrink each distinct finding and save it as a regression case; progress on
// stdout, results (results.json and the reports) in --out. Exit 1 when a finding no registered bug
// explains, 0 when there is none (or all are registered), 2 on bad input or a broken run.
import path from "node:path";
import { InputError } from "../util/input-error.ts";
import { explore, type Finding } from "../explore/explore.ts";
import { REPORT_FILES } from "../report/index.ts";
import { knownBugsFor } from "../verdict/summary.ts";
import { kernelFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import { hasPageCacheShare } from "../kernel/kernel.ts";
import { FOUND_DIR } from "../../cases/found-dir.ts";

export interface ExploreCliOptions extends GuestCliOptions {
  budget: string;
  seed?: string;
  shrink: string;
  out?: string;
  found?: string | boolean;
  knownBugs?: string | boolean;
  maxPrograms?: string;
  programsPerGuest?: string;
  shrinkKnown?: boolean;
}

/** "10m", "90s", "1h" or a number of minutes, in ms; one clear line otherwise. */
export function parseDuration(value: string, name: string, opts: { zero?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (!m || Number(m[1]) < 0 || (Number(m[1]) === 0 && !opts.zero)) throw new InputError(`${name} ${value}: not a duration; give e.g. 10m, 90s or 1h`);
  return Math.round(Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? "m") as "s" | "m" | "h"]);
}

/** A seed for fast-check: a non-negative 32-bit integer. */
export function parseSeed(value: string | undefined): number {
  if (value === undefined) return Date.now() % 2 ** 31;
  if (!/^\d+$/.test(value) || Number(value) >= 2 ** 31) throw new InputError(`--seed ${value}: give an integer from 0 to ${2 ** 31 - 1}`);
  return Number(value);
}

export async function exploreCommand(opts: ExploreCliOptions): Promise<number> {
  const budgetMs = parseDuration(opts.budget, "--budget");
  const shrinkMs = parseDuration(opts.shrink, "--shrink", { zero: true });
  const seed = parseSeed(opts.seed);
  const bugs = await knownBugsFor(opts.knownBugs);
  const kernel = await kernelFrom(opts);
  if (!hasPageCacheShare(kernel)) throw new InputError(`${kernel.info.release} has no page-cache sharing (CONFIG_EROFS_FS_PAGE_CACHE_SHARE): nothing to explore; pick a kernel with it`);
  const outDir = path.resolve(opts.out ?? path.join("results", `explore-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  const foundDir = opts.found === false ? undefined : path.resolve(typeof opts.found === "string" ? opts.found : FOUND_DIR);
  process.stdout.write(`pcshare explore: seed ${seed}, budget ${opts.budget} (+ ${opts.shrink} shrinking per finding) on ${kernel.info.release} (${kernel.info.source})\n`);
  const res = await explore({
    kernel, seed, budgetMs, shrinkMs, shrinkKnown: opts.shrinkKnown, outDir, foundDir, bugs,
    memoryMiB: intOption(opts.memory, "--memory"),
    cpus: intOption(opts.cpus, "--cpus"),
    maxPrograms: opts.maxPrograms ? intOption(opts.maxPrograms, "--max-programs") : undefined,
    programsPerGuest: opts.programsPerGuest ? intOption(opts.programsPerGuest, "--programs-per-guest") : undefined,
    onProgress: (line) => process.stdout.write(`${line}\n`),
  });
  const files = res.reports;
  const minutes = res.elapsedMs / 60_000;
  process.stdout.write(`\n${res.programs} programs in ${minutes.toFixed(1)} min (${(res.programs / Math.max(minutes, 1e-9)).toFixed(1)} programs/min, shrinking included), ${res.findings.length} distinct findings\n`);
  for (const f of res.findings) process.stdout.write(`  ${findingLine(f)}\n`);
  process.stdout.write(`report: ${files.html ?? path.join(outDir, REPORT_FILES.html)}\nresults: ${outDir}\nreplay: pcshare explore --seed ${seed} --budget ${opts.budget}\n`);
  return res.findings.some((f) => f.knownBugs.length === 0) ? 1 : 0;
}

function findingLine(f: Finding): string {
  const known = f.knownBugs.length ? ` [registered bug ${f.knownBugs.join(", ")}]` : " [NEW]";
  const shrunk = f.shrunkOps !== undefined ? `, shrunk to ${f.shrunkOps}` : f.reproduced === false ? ", did not repeat on replay" : "";
  return `${f.signature}${known}: ${f.firstProgram} after ${(f.atMs / 60_000).toFixed(1)} min, ${f.ops} ops${shrunk}${f.found ? `, saved as ${f.found.id}` : ""}`;
}
