// Owns: an exploration run. fast-check draws programs from a seed (generate.ts); each runs as a case
// through the ordinary runner (images built from a spec file written for it, kernel reports classified
// from the console, checks from the model), several programs per guest, the runner's clean-state
// check between them; a result with a new signature is a finding. After the budget, each distinct
// finding is replayed from its fast-check path on a guest of its own and shrunk to the smallest
// program that still fails with the same signature, then saved as a regression case.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import type { Kernel } from "../kernel/kernel.ts";
import type { CaseResult, RunResult } from "../report/model.ts";
import type { KnownBug } from "../verdict/known-bug-schema.ts";
import { runSuite } from "../runner/run.ts";
import { writeReports } from "../report/index.ts";
import { defineCase } from "../runner/case.ts";
import { DEFAULT_SPECS } from "../images/commands.ts";
import { ProgramExecutor } from "./execute.ts";
import { contentIndex } from "./sources.ts";
import { concrete, programArb, type DrawnProgram } from "./generate.ts";
import { knownBugsOf, signatureOf } from "./signature.ts";
import { writeFoundCase, type FoundCase } from "./found.ts";
import { describeOp } from "./program.ts";

export interface ExploreOptions {
  kernel: Kernel;
  seed: number;
  /** Time for drawing and running new programs, ms. */
  budgetMs: number;
  /** Time for shrinking each distinct finding, ms (0: do not shrink). */
  shrinkMs: number;
  /** Shrink findings a registered bug explains too (default true; false: only new ones are shrunk). */
  shrinkKnown?: boolean;
  outDir: string;
  /** Where found cases are written (undefined: not written). */
  foundDir?: string;
  bugs: readonly KnownBug[];
  memoryMiB?: number;
  cpus?: number;
  /** Stop after this many programs (for tests; default: only the budget stops it). */
  maxPrograms?: number;
  /**
   * Programs run one after another in one guest (default PROGRAMS_PER_GUEST): a guest's start is paid
   * once for them. Shrinking always runs each candidate on a guest of its own.
   */
  programsPerGuest?: number;
  onProgress?: (line: string) => void;
}

export interface Finding {
  signature: string;
  knownBugs: string[];
  /** fast-check path of the program that first showed it, and of the smallest one shrinking found. */
  path: string;
  firstProgram: string;
  /** When the program that first showed it finished, ms since the exploration started. */
  atMs: number;
  ops: number;
  shrunkOps?: number;
  /** The shrunk program failed the same way again when saved (false: a race that did not repeat). */
  reproduced?: boolean;
  found?: FoundCase;
  /** The program that first showed it. */
  drawn: DrawnProgram;
}

export interface ExploreResult {
  run: RunResult;
  /** The report files written in outDir (results.json and the other formats). */
  reports: Awaited<ReturnType<typeof writeReports>>;
  findings: Finding[];
  programs: number;
  elapsedMs: number;
}

/** Programs per guest by default: a guest start (a boot: each program has its own images) is ~4 s under TCG. */
export const PROGRAMS_PER_GUEST = 4;

/** Runs programs drawn from the seed until the budget is spent, then shrinks each distinct finding. */
export async function explore(opts: ExploreOptions): Promise<ExploreResult> {
  const t0 = Date.now();
  const runner = new ProgramRunner(opts);
  const findings = new Map<string, Finding>();
  const deadline = t0 + opts.budgetMs;
  const perGuest = opts.programsPerGuest ?? PROGRAMS_PER_GUEST;
  let batch: { drawn: DrawnProgram; index: number }[] = [];
  const runBatch = async () => {
    const drawnBatch = batch;
    batch = [];
    const results = await runner.runBatch(drawnBatch.map(({ drawn, index }) => ({ drawn, id: `P${index + 1}` })), "explore");
    for (const [i, r] of results.entries()) {
      const { drawn, index } = drawnBatch[i];
      const sig = signatureOf(r);
      if (sig && !findings.has(sig)) findings.set(sig, { signature: sig, knownBugs: knownBugsOf(r, opts.kernel.info, opts.bugs), path: String(index), firstProgram: r.id, atMs: Date.now() - t0, ops: drawn.ops.length, drawn });
      const minutes = (Date.now() - t0) / 60_000;
      opts.onProgress?.(
        `[${r.id}] ${r.outcome.padEnd(7)} ${drawn.ops.length} ops${sig ? `  ${sig}` : ""}  | ${index + 1} programs, ${findings.size} distinct findings, ${(runner.count / Math.max(minutes, 1e-9)).toFixed(1)} programs/min`,
      );
    }
  };
  let index = -1;
  // The budget ends the loop from inside: the property "fails" once it is spent and endOnFailure stops
  // fast-check without shrinking (interruptAfterTimeLimit would return while a program still runs).
  // Drawn programs wait until a guest's worth is drawn; the generator does not depend on results, so
  // the seed draws the same programs whatever the batch size. A finding's path is its draw index.
  await fc.check(
    fc.asyncProperty(programArb, async (drawn) => {
      index++;
      if (Date.now() >= deadline || (opts.maxPrograms !== undefined && index >= opts.maxPrograms)) return false;
      batch.push({ drawn, index });
      if (batch.length >= perGuest || (opts.maxPrograms !== undefined && index + 1 >= opts.maxPrograms)) await runBatch();
      return true;
    }),
    { seed: opts.seed, numRuns: 1_000_000, endOnFailure: true },
  );
  if (batch.length) await runBatch(); // drawn before the budget ran out
  const explored = runner.count;
  for (const f of findings.values()) {
    if (opts.shrinkMs > 0 && (opts.shrinkKnown !== false || f.knownBugs.length === 0)) await shrinkFinding(opts, runner, f);
    else await saveFound(opts, f, f.drawn); // not shrunk, not replayed: saved as it was found
  }
  const run = runner.result(t0);
  const reports = await writeReports(run, opts.outDir);
  return { run, reports, findings: [...findings.values()], programs: explored, elapsedMs: Date.now() - t0 };
}

/** Replay the finding's program from its path and let fast-check shrink it while the signature stays. */
async function shrinkFinding(opts: ExploreOptions, runner: ProgramRunner, f: Finding): Promise<void> {
  const deadline = Date.now() + opts.shrinkMs;
  let best: { drawn: DrawnProgram; result: CaseResult } | undefined;
  let step = 0;
  opts.onProgress?.(`shrinking "${f.signature}" (from ${f.firstProgram}, ${f.ops} ops)`);
  await fc.check(
    fc.asyncProperty(programArb, async (drawn) => {
      if (Date.now() >= deadline) return true; // out of time: every further candidate "passes", the best so far stays
      const [r] = await runner.runBatch([{ drawn, id: `S${++step}` }], "shrink");
      if (signatureOf(r) !== f.signature) return true;
      if (!best || size(drawn) < size(best.drawn)) best = { drawn, result: r };
      opts.onProgress?.(`  ${r.id}: same failure with ${drawn.ops.length} ops, ${drawn.images.length} images`);
      return false;
    }),
    { seed: opts.seed, path: f.path, numRuns: 1 },
  );
  if (!best) {
    f.reproduced = false;
    opts.onProgress?.(`  did not fail the same way on replay (a race?): kept as found, not saved`);
    return;
  }
  f.reproduced = true;
  f.shrunkOps = best.drawn.ops.length;
  opts.onProgress?.(`  smallest: ${best.drawn.ops.length} ops: ${best.drawn.ops.map(describeOp).join("; ")}`);
  await saveFound(opts, f, best.drawn);
}

async function saveFound(opts: ExploreOptions, f: Finding, drawn: DrawnProgram): Promise<void> {
  if (!opts.foundDir) return;
  const { program, specs } = concrete(drawn);
  const kernel = `${opts.kernel.info.release} (${opts.kernel.info.source})`;
  f.found = await writeFoundCase(opts.foundDir, { seed: opts.seed, path: f.path, kernel, signature: f.signature, knownBugs: f.knownBugs }, program, specs);
  opts.onProgress?.(`  saved ${path.join(opts.foundDir, `${f.found.id}.json`)}`);
}

/** A smaller program: fewer operations first, then fewer images, then fewer generated files. */
function size(d: DrawnProgram): number {
  const files = d.images.reduce((n, c) => n + ("spec" in c ? c.spec.files.length : 0), 0);
  return d.ops.length * 1000 + d.images.length * 100 + files;
}

/**
 * Runs programs as cases of one suite on one guest (a fresh one for the first; the runner replaces it
 * after a crash or when its clean-state check fails), keeping every result for the report. Each
 * program's program.json and images.yaml go in a directory of its own; the runner's output (console,
 * dmesg and steps per case) in the batch's directory, named after its first and last program.
 */
class ProgramRunner {
  readonly results: CaseResult[] = [];
  readonly boots: NonNullable<RunResult["boots"]> = [];
  private last?: RunResult;
  count = 0;

  constructor(private readonly opts: ExploreOptions) {}

  async runBatch(items: { drawn: DrawnProgram; id: string }[], phase: "explore" | "shrink"): Promise<CaseResult[]> {
    if (phase === "explore") this.count += items.length;
    const batchName = items.length === 1 ? items[0].id : `${items[0].id}-${items[items.length - 1].id}`;
    const batchDir = path.join(this.opts.outDir, batchName);
    await mkdir(batchDir, { recursive: true });
    const programs = items.map(({ drawn, id }) => ({ id, ...concrete(drawn) }));
    // One spec file for the batch: two programs may draw the same generated image (same name, same spec).
    const allSpecs = new Map(programs.flatMap((p) => [...p.specs]));
    const specFile = path.join(batchDir, "images.yaml");
    await writeFile(specFile, stringify({ images: Object.fromEntries(allSpecs) }));
    const specFiles = allSpecs.size ? [...DEFAULT_SPECS, specFile] : DEFAULT_SPECS;
    const fileBacked = this.opts.kernel.config.CONFIG_EROFS_FS_BACKED_BY_FILE === "y";
    const defs = [];
    for (const { id, program, specs } of programs) {
      const dir = path.join(this.opts.outDir, id);
      await mkdir(dir, { recursive: true });
      if (dir !== batchDir) await writeFile(path.join(dir, "images.yaml"), stringify({ images: Object.fromEntries(specs) }));
      await writeFile(path.join(dir, "program.json"), `${JSON.stringify({ seed: this.opts.seed, ...program, steps: program.ops.map(describeOp) }, null, 1)}\n`);
      defs.push(
        defineCase({
          id,
          name: phase === "explore" ? "explore-program" : "shrink-candidate",
          groups: ["E"],
          expect: "every observation matches the model of the documented rules, with no kernel report",
          requires: ["page-cache-share"],
          images: program.images,
          timeoutMs: 120_000,
          run: (t) => new ProgramExecutor(t, program, contentIndex(specFiles, program.images), fileBacked).run(),
        }),
      );
    }
    const run = await runSuite({ kernel: this.opts.kernel, cases: defs, outDir: batchDir, specs: specFiles, memoryMiB: this.opts.memoryMiB, cpus: this.opts.cpus, spareGuest: false, jobs: 1, newGuestAfterReport: true });
    this.last = run;
    this.boots.push(...(run.boots ?? []));
    return run.cases.map((r) => this.label(r, batchName));
  }

  private label(r: CaseResult, batchName: string): CaseResult {
    const artifacts = Object.fromEntries(Object.entries(r.artifacts).map(([k, v]) => [k, path.join(batchName, v)]));
    const sig = signatureOf(r);
    const bugs = knownBugsOf(r, this.opts.kernel.info, this.opts.bugs);
    const labelled: CaseResult = {
      ...r,
      artifacts,
      reason: sig && bugs.length ? `registered bug ${bugs.join(", ")}: ${r.reason ?? sig}` : r.reason,
      findings: [...r.findings, ...(sig ? [`signature: ${sig}`] : [])],
    };
    this.results.push(labelled);
    return labelled;
  }

  result(t0: number): RunResult {
    const base = this.last;
    return {
      schema: "pcshare-results/1",
      startedAt: new Date(t0).toISOString(),
      finishedAt: new Date().toISOString(),
      host: base?.host ?? { hostname: "", accel: "", cpus: 0, qemu: "", node: process.version },
      kernel: this.opts.kernel.info,
      tools: base?.tools ?? {},
      cases: this.results,
      boots: this.boots,
    };
  }
}
