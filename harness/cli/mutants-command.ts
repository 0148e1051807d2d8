// `pcshare mutants`: does the suite notice deliberately broken kernels? Each patch in
// kernel-patches/mutants/ is built as a series on Debian's linux-source (incrementally), and the cases
// its `Killed-By:` header names are run on it. A mutant is killed when one of those cases passes on
// the unmutated built kernel (the baseline, run once per kernel flavour) and fails on the mutant.
// Mutants with an `Equivalent: reason` header are reported as such. Prints a table, writes
// mutants.json, and exits 1 when a non-equivalent mutant survives.
import path from "node:path";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { ALL_CASES } from "../../cases/index.ts";
import type { CaseDef } from "../runner/case.ts";
import { FAILING, type Outcome, type RunResult } from "../report/model.ts";
import { knownBugsFor } from "../verdict/summary.ts";
import { DEFAULT_FRAGMENTS } from "../kernel/build.ts";
import type { KernelChoice } from "../kernel/resolve.ts";
import { buildPhase, phase, runPhase } from "./series-command.ts";
import { intOption } from "./kernel-options.ts";
import { specsOption } from "../images/commands.ts";

export interface Mutant {
  /** File name without .patch. */
  name: string;
  file: string;
  subject: string;
  breaks: string;
  killedBy: string;
  /** Case ids named in Killed-By (the leading id of each ";"-separated part). */
  cases: string[];
  /** Killed-By asks for a debug kernel (KASAN, DEBUG_LIST, ...). */
  debug: boolean;
  equivalent?: string;
}

export type Verdict = "killed" | "survived" | "equivalent" | "build-failed";

export interface MutantResult {
  name: string;
  breaks: string;
  killedBy: string;
  kernel: string;
  debugKernel: boolean;
  verdict: Verdict;
  /** The case that killed it. */
  killer?: string;
  /** Per case: outcome on the baseline and on the mutant, with the mutant's reason. */
  cases: { id: string; baseline: Outcome | "absent"; mutant: Outcome | "absent"; reason?: string }[];
  note?: string;
  results?: string;
}

/** Header lines of a mutant patch, continuation lines (not "Key:" lines, not blank) joined. */
export function parseMutant(file: string, text: string): Mutant {
  const head = text.split(/^---$/m)[0];
  const fields = new Map<string, string>();
  let cur: string | undefined;
  for (const line of head.split("\n")) {
    const m = line.match(/^([A-Z][A-Za-z-]*):\s*(.*)$/);
    if (m) {
      cur = m[1].toLowerCase();
      fields.set(cur, m[2].trim());
    } else if (cur && line.trim() && !/^\s*$/.test(line)) {
      fields.set(cur, `${fields.get(cur)} ${line.trim()}`);
    } else cur = undefined;
  }
  const killedBy = fields.get("killed-by") ?? "";
  const cases = killedBy
    .split(";")
    .map((part) => part.trim().match(/^([A-Z]\d+[a-z]?)\b/)?.[1])
    .filter((id): id is string => !!id);
  return {
    name: path.basename(file).replace(/\.patch$/, ""),
    file,
    subject: (fields.get("subject") ?? "").replace(/^\[PATCH[^\]]*\]\s*/, ""),
    breaks: fields.get("breaks") ?? "",
    killedBy,
    cases,
    debug: /\bdebug\b/i.test(killedBy),
    ...(fields.has("equivalent") && { equivalent: fields.get("equivalent") }),
  };
}

export async function loadMutants(dir: string): Promise<Mutant[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".patch")).sort();
  return Promise.all(files.map(async (f) => parseMutant(path.join(dir, f), await readFile(path.join(dir, f), "utf8"))));
}

function globMatch(pattern: string, name: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(name);
}

/**
 * Outcomes on the (unmutated) baseline from which a failure on the mutant is news: it passed (pass, or
 * xpass: a registered bug did not show), or it failed only with a registered bug (xfail).
 */
const BASELINE_OK: ReadonlySet<Outcome | "absent"> = new Set(["pass", "xpass", "xfail"]);

/**
 * Killed when a case's baseline outcome is in BASELINE_OK and it fails on the mutant (fail, error,
 * timeout), both after the known-bugs layer: a mutant failure that a registered bug explains exactly is
 * xfail (the bug, not the mutant), one that differs from it in any part (another crash, another check)
 * stays fail and kills. A mutant xpass is not a failure, nor a case its run never executed (missing).
 */
export function judge(caseIds: string[], baseline: RunResult, mutant: RunResult): Pick<MutantResult, "verdict" | "killer" | "cases"> {
  const cases = caseIds.map((id) => {
    const b = baseline.cases.find((c) => c.id === id);
    const m = mutant.cases.find((c) => c.id === id);
    return { id, baseline: b?.outcome ?? ("absent" as const), mutant: m?.outcome ?? ("absent" as const), ...(m?.reason && { reason: m.reason }) };
  });
  // A case the mutant's run never executed (missing) proves nothing either way.
  const killer = cases.find((c) => BASELINE_OK.has(c.baseline) && c.mutant !== "absent" && c.mutant !== "missing" && FAILING.has(c.mutant));
  return { verdict: killer ? "killed" : "survived", ...(killer && { killer: killer.id }), cases };
}

export interface MutantsCliOptions {
  only?: string[];
  debug: boolean;
  dir: string;
  out?: string;
  spec?: string[];
  memory: string;
  /** Guests at once; default: resolveJobs (runner/jobs.ts), per run. */
  jobs?: string;
  knownBugs?: string | boolean;
}

export async function mutantsCommand(opts: MutantsCliOptions): Promise<number> {
  const only = (opts.only ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  let mutants = await loadMutants(opts.dir);
  for (const p of only) if (!mutants.some((m) => globMatch(p, m.name))) throw new Error(`no mutant matches "${p}" in ${opts.dir}`);
  if (only.length) mutants = mutants.filter((m) => only.some((p) => globMatch(p, m.name)));
  if (mutants.length === 0) throw new Error(`no mutant patches in ${opts.dir}`);
  const outDir = path.resolve(opts.out ?? path.join("results", `mutants-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  const memoryMiB = intOption(opts.memory, "--memory");
  const specs = specsOption(opts.spec);
  const jobs = opts.jobs === undefined ? undefined : intOption(opts.jobs, "--jobs");
  const byId = new Map(ALL_CASES.map((c) => [c.id, c]));
  const bugs = await knownBugsFor(opts.knownBugs);
  // An id the catalog split into lettered parts (I3 -> I3a, I3b) stands for the parts; ids the catalog
  // does not have at all are left out and said in the mutant's note.
  const missing = new Map<string, string[]>();
  for (const m of mutants) {
    m.cases = [...new Set(m.cases.flatMap((id) => expandId(id, byId)))];
    const unknown = m.cases.filter((id) => !byId.has(id));
    if (unknown.length) {
      missing.set(m.name, unknown);
      process.stderr.write(`pcshare: ${m.name}: Killed-By names ${unknown.join(", ")}, not in the catalog: left out\n`);
      m.cases = m.cases.filter((id) => byId.has(id));
    }
    if (!m.equivalent && m.cases.length === 0) throw new Error(`${m.file}: Killed-By "${m.killedBy}" names no case of the catalog`);
  }
  const live = mutants.filter((m) => !m.equivalent);
  const useDebug = (m: Mutant) => m.debug && opts.debug;

  // One baseline per kernel flavour, on the union of the cases its mutants name.
  const baselines = new Map<boolean, RunResult>();
  for (const flavour of [false, true]) {
    const ids = [...new Set(live.filter((m) => useDebug(m) === flavour).flatMap((m) => m.cases))];
    if (!ids.length) continue;
    const label = flavour ? "baseline-debug" : "baseline";
    const kernel = await buildPhase(label, choice(flavour));
    const cases = ids.map((id) => byId.get(id)!).sort(catalogOrder);
    baselines.set(flavour, await runPhase({ kernel, cases, outDir: path.join(outDir, label), label, specs, memoryMiB, bugs, jobs }));
  }

  const results: MutantResult[] = [];
  for (const m of mutants) {
    const base: MutantResult = { name: m.name, breaks: m.breaks, killedBy: m.killedBy, kernel: "", debugKernel: useDebug(m), verdict: "equivalent", cases: [] };
    if (m.equivalent) {
      phase(`${m.name}: equivalent (${m.equivalent}), not run`);
      results.push({ ...base, note: m.equivalent });
      continue;
    }
    const notes = [
      m.debug && !opts.debug && "asks for a debug kernel; run on the normal build (--no-debug)",
      missing.has(m.name) && `Killed-By names ${missing.get(m.name)!.join(", ")}, not in the catalog`,
    ].filter(Boolean);
    const note = notes.length ? notes.join("; ") : undefined;
    let kernel;
    try {
      kernel = await buildPhase(m.name, { ...choice(useDebug(m)), series: m.file });
    } catch (err) {
      phase(`${m.name}: build failed: ${(err as Error).message.split("\n")[0]}`);
      results.push({ ...base, verdict: "build-failed", note: (err as Error).message.split("\n")[0] });
      continue;
    }
    const dir = path.join(outDir, m.name);
    const cases = m.cases.map((id) => byId.get(id)!);
    const run = await runPhase({ kernel, cases, outDir: dir, label: m.name, specs, memoryMiB, bugs, jobs });
    const r: MutantResult = { ...base, kernel: `${kernel.info.source} ${kernel.info.release}`, ...judge(m.cases, baselines.get(useDebug(m))!, run), results: path.relative(outDir, dir), ...(note && { note }) };
    phase(`${m.name}: ${r.verdict.toUpperCase()}${r.killer ? ` by ${r.killer}` : ""}`);
    results.push(r);
  }

  const file = path.join(outDir, "mutants.json");
  await writeFile(file, JSON.stringify({ schema: "pcshare-mutants/1", date: new Date().toISOString(), mutants: results }, null, 2) + "\n");
  process.stdout.write(`\n${formatMutants(results)}\n\nmutants: ${file}\n`);
  const survivors = results.filter((r) => r.verdict === "survived" || r.verdict === "build-failed");
  if (survivors.length) process.stdout.write(`${survivors.length} mutant(s) not killed: ${survivors.map((r) => r.name).join(", ")}\n`);
  return survivors.length ? 1 : 0;
}

/** A catalog id as is, else its lettered parts (I3 -> I3a, I3b), else itself (then unknown). */
export function expandId(id: string, catalog: ReadonlyMap<string, unknown>): string[] {
  if (catalog.has(id)) return [id];
  const parts = [...catalog.keys()].filter((k) => new RegExp(`^${id}[a-z]$`).test(k));
  return parts.length ? parts : [id];
}

function choice(debug: boolean): KernelChoice {
  return debug ? { debug: true } : { fragments: DEFAULT_FRAGMENTS };
}

function catalogOrder(a: CaseDef, b: CaseDef): number {
  return ALL_CASES.indexOf(a) - ALL_CASES.indexOf(b);
}

/** "F3: pass -> fail (reason)" for each case named, killer first. */
export function outcomeSeen(r: MutantResult, withReason = true): string {
  const order = [...r.cases].sort((a, b) => Number(b.id === r.killer) - Number(a.id === r.killer));
  return order.map((c) => `${c.id}: ${c.baseline} -> ${c.mutant}${withReason && c.reason ? ` (${c.reason})` : ""}`).join("; ");
}

export function formatMutants(results: MutantResult[]): string {
  const rows = results.map((r) => [r.name, r.verdict + (r.debugKernel ? " (debug)" : ""), r.killer ?? "-", r.verdict === "equivalent" || r.cases.length === 0 ? r.note ?? "" : outcomeSeen(r, false)]);
  const head = ["mutant", "verdict", "killer", "outcome seen (baseline -> mutant)"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
