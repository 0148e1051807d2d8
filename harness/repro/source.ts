// Owns: finding what a reproducer bundle is made of: the case result to reproduce, the steps it sent
// the guest (steps.json), the run it belongs to (kernel, provenance) and the image specs. The target
// is a catalogue case id (O3), a found case (E1, cases/found/E1, a path to E1.json) or a results.json
// entry (results.json with --case, or results.json#O3). A case named by id is run once here first.
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { CaseDef } from "../runner/case.ts";
import type { CaseResult, RunResult } from "../report/model.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { StepRecord } from "../runner/steps.ts";
import { readResults, writeResults } from "../report/json.ts";
import { runSuite } from "../runner/run.ts";
import { foundCaseDef, foundSpecFiles, type FoundCase } from "../explore/found.ts";
import { DEFAULT_SPECS } from "../images/commands.ts";

export interface ReproSource {
  result: CaseResult;
  run: RunResult;
  steps: StepRecord;
  /** The case's definition when pcshare has it (catalogue or found case). */
  def?: CaseDef;
  /** Image spec files the case's images come from. */
  specs: string[];
  /** Where the run's results and artifacts are. */
  resultsDir: string;
}

/** Raised for targets no bundle can be made of; the message says why and what to do. */
export class ReproError extends Error {}

export type Target =
  | { kind: "results"; file: string; caseId?: string }
  | { kind: "found"; file: string }
  | { kind: "case"; def: CaseDef };

/** What `target` names (no I/O beyond reading the files it points at). */
export function parseTarget(target: string, caseId: string | undefined, catalogue: readonly CaseDef[], foundDir: string): Target {
  const [file, hash] = target.includes("#") ? [target.slice(0, target.indexOf("#")), target.slice(target.indexOf("#") + 1)] : [target, undefined];
  if (/\.json$/.test(file) && existsSync(file)) {
    const text = readFileSync(file, "utf8");
    if (/"schema"\s*:\s*"pcshare-results\//.test(text.slice(0, 200))) return { kind: "results", file: path.resolve(file), caseId: hash ?? caseId };
    return { kind: "found", file: path.resolve(file) };
  }
  const foundFile = /^E\d+$/.test(target) ? path.join(foundDir, `${target}.json`) : existsSync(`${target}.json`) ? `${target}.json` : undefined;
  if (foundFile && existsSync(foundFile)) return { kind: "found", file: path.resolve(foundFile) };
  const def = catalogue.find((c) => c.id === target);
  if (def) return { kind: "case", def };
  throw new ReproError(`${target}: no such case, found case (${foundDir}/E<n>.json) or results.json: give a case id from \`pcshare list\`, a found case or a results file`);
}

/** The definition of a found case file, with the spec files of its images. */
export function foundDef(file: string): { def: CaseDef; specs: string[] } {
  let f: FoundCase;
  try {
    f = JSON.parse(readFileSync(file, "utf8")) as FoundCase;
  } catch (err) {
    throw new ReproError(`${file}: not a found case (${(err as Error).message})`);
  }
  if (!f.program?.ops || !f.id) throw new ReproError(`${file}: not a found case (no id or program)`);
  const own = foundSpecFiles(path.dirname(file)).filter((s) => path.basename(s) === `${f.id}.yaml`);
  const specs = [...new Set([...DEFAULT_SPECS, ...own])];
  return { def: foundCaseDef(f, () => specs), specs };
}

/** Run one case once (the bundle's own run, in <out>/run) and return what it recorded. */
export async function runForRepro(def: CaseDef, specs: string[], kernel: Kernel, outDir: string, guest: { memoryMiB: number; cpus: number }): Promise<ReproSource> {
  const resultsDir = path.join(outDir, "run");
  const run = await runSuite({ kernel, cases: [def], outDir: resultsDir, specs, memoryMiB: guest.memoryMiB, cpus: guest.cpus, jobs: 1, spareGuest: false });
  await writeResults(run, path.join(resultsDir, "results.json"));
  await keepOwnImages(resultsDir, def.id, specs);
  return fromRun(run, run.cases[0], resultsDir, def, specs);
}

/**
 * A found case's generated images, kept beside its result as explore keeps a program's
 * (<id>/images.yaml), so that the run's results.json entry can be bundled again later wherever the
 * found case's files are. Nothing to keep for a case whose images are all in the default specs.
 */
export async function keepOwnImages(resultsDir: string, id: string, specs: string[]): Promise<void> {
  const own = specs.filter((s) => !DEFAULT_SPECS.includes(s));
  if (own.length !== 1) return;
  await mkdir(path.join(resultsDir, id), { recursive: true });
  await copyFile(own[0], path.join(resultsDir, id, "images.yaml"));
}

/** A results.json entry: the case named, or the only one that did not pass. */
export async function fromResultsFile(file: string, caseId: string | undefined, defs: readonly CaseDef[]): Promise<ReproSource> {
  const run = await readResults(file);
  const resultsDir = path.dirname(file);
  const notPassed = run.cases.filter((c) => c.outcome !== "pass" && c.outcome !== "skip");
  let result: CaseResult | undefined;
  if (caseId) {
    result = run.cases.find((c) => c.id === caseId && c.outcome !== "skip") ?? run.cases.find((c) => c.id === caseId);
    if (!result) throw new ReproError(`${file} has no case ${caseId} (it has ${run.cases.map((c) => c.id).join(", ")})`);
  } else if (notPassed.length === 1) {
    result = notPassed[0];
  } else {
    throw new ReproError(`${file}: name the case with --case ID or ${file}#ID (cases that did not pass: ${notPassed.map((c) => c.id).join(", ") || "none"})`);
  }
  const programSpec = path.join(resultsDir, result.id, "images.yaml"); // an explore program's generated images
  const specs = existsSync(programSpec) ? [...DEFAULT_SPECS, programSpec] : DEFAULT_SPECS;
  const def = exploreProgramDef(run, result, resultsDir, specs) ?? defs.find((d) => d.id === result.id);
  return fromRun(run, result, resultsDir, def, specs);
}

/**
 * An explore run's program (P<n>, or a shrink candidate S<n>) as a case: what it states comes from
 * its program.json (seed, operations) and its signature, as for a found case. Undefined for entries
 * of other runs (no program.json beside them).
 */
export function exploreProgramDef(run: RunResult, result: CaseResult, resultsDir: string, specs: string[]): CaseDef | undefined {
  const file = path.join(resultsDir, result.id, "program.json");
  if (!existsSync(file)) return undefined;
  let program: FoundCase["program"] & { seed?: number };
  try {
    program = JSON.parse(readFileSync(file, "utf8")) as FoundCase["program"] & { seed?: number };
  } catch (err) {
    throw new ReproError(`${file}: not an explore program (${(err as Error).message})`);
  }
  if (!Array.isArray(program.ops) || !Array.isArray(program.images)) throw new ReproError(`${file}: not an explore program (no images or ops)`);
  const signature = result.findings.find((f) => f.startsWith("signature: "))?.slice("signature: ".length) ?? result.reason ?? result.outcome;
  const found: FoundCase = {
    id: result.id,
    seed: program.seed ?? 0,
    path: "",
    kernel: `${run.kernel.release} (${run.kernel.source})`,
    signature,
    knownBugs: [],
    program: { images: program.images, ops: program.ops },
  };
  return { ...foundCaseDef(found, () => specs), name: result.name };
}

function fromRun(run: RunResult, result: CaseResult, resultsDir: string, def: CaseDef | undefined, specs: string[]): ReproSource {
  if (result.outcome === "skip" || result.outcome === "missing") {
    throw new ReproError(`${result.id} did not run (${result.outcome}: ${result.reason ?? "no reason given"}): there is nothing to reproduce`);
  }
  const stepsFile = result.artifacts.steps;
  if (!stepsFile || !existsSync(path.join(resultsDir, stepsFile))) {
    throw new ReproError(
      `${result.id} in ${resultsDir} has no recorded steps (steps.json: runs before pcshare recorded them): make a bundle from the case itself with \`pcshare repro ${result.id} --out DIR\``,
    );
  }
  const steps = JSON.parse(readFileSync(path.join(resultsDir, stepsFile), "utf8")) as StepRecord;
  return { result, run, steps, def, specs, resultsDir };
}
