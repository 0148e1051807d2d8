// Runs cases on one kernel and produces the RunResult: plans the runs (requirement skips decided
// before booting), builds the images the rest need, and runs each case on a clean guest from the
// pool, moving to a fresh one after a crash, a timeout or state that would not come clean. Cases the
// run never got to (images failed to build, a signal, no usable guest three times in a row)
// are reported as `missing`. Verdicts come from outcome.ts, artifacts from artifacts.ts, guests from
// guest-pool.ts, the clean-state check from clean-state.ts.
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { slowdownFactor, type Kernel } from "../kernel/kernel.ts";
import type { CaseDef } from "./case.ts";
import { caseLabel } from "./case.ts";
import { unmetRequirement } from "./requirements.ts";
import { CaseContext, type ImageHandle } from "./context.ts";
import { buildImages } from "../images/build.ts";
import type { ImageSpec } from "../images/spec.ts";
import { erofsTools } from "../images/erofs-utils.ts";
import { prepareGuest } from "../vm/launch.ts";
import { FATAL_GRACE_MS, type Vm } from "../vm/vm.ts";
import type { Drive } from "../vm/qemu-args.ts";
import { VmError } from "../vm/errors.ts";
import { FATAL_KINDS } from "../vm/crash.ts";
import type { CaseResult, RunResult, Outcome, CrashReport, CleanState } from "../report/model.ts";
import { resultWithoutWork } from "../report/model.ts";
import { symbolizeCrashes } from "../kernel/symbolize.ts";
import { findBusybox } from "../util/host-tools.ts";
import { sha256Hex } from "../util/hash.ts";
import { classifyCase, caseEndOf, guestUsableAfter, type CaseEnd, type ResetEnd } from "./outcome.ts";
import { GuestPool } from "./guest-pool.ts";
import { WorkQueue, runWorkers } from "./queue.ts";
import { standbyGuests } from "./jobs.ts";
import type { RestoreMode } from "../vm/snapshot.ts";
import { caseDirName, consoleExcerpt, formatKmsg, writeCaseArtifacts } from "./artifacts.ts";
import { captureBaseline, makeClean, type Baseline } from "./clean-state.ts";
import { runProvenance } from "./provenance.ts";
import { StepRecorder } from "./steps.ts";
import { chosenVariants, defaultVariantSeed, type VariantChoice } from "./variants.ts";

export interface RunOptions {
  kernel: Kernel;
  cases: CaseDef[];
  outDir: string;
  /** Image spec files, or the specs loadSpecs read from them (the commands load them before any download or boot). */
  specs: string[] | Map<string, ImageSpec>;
  repeat?: number;
  /** Which variants of the cases that declare them run (default: seed of today, rotating cases rotate). */
  variants?: VariantChoice;
  memoryMiB?: number;
  /** Guest CPUs (default: bootGuest's). */
  cpus?: number;
  /** Guests running cases at once (default 1); each takes the next case in the selected order. */
  jobs?: number;
  /** Start guests from a snapshot of a ready one (vm/snapshot.ts); default "off" (every guest boots). */
  restore?: RestoreMode;
  /** Boot a standby guest beside the running ones (default: jobs.ts standbyGuests, PCSHARE_SPARE_GUEST). */
  spareGuest?: boolean;
  /**
   * A guest whose kernel printed any report (a WARNING too) runs no further case; the next gets a new
   * guest. For runs of many short programs (explore): a report printed once per boot (WARN_ON_ONCE)
   * must not be missing from the next program that triggers it, which would change its signature.
   */
  newGuestAfterReport?: boolean;
  /** How long the guest may take to come clean before a case (default 10 s, times the kernel's slowdown). */
  cleanBoundMs?: number;
  /** Aborting stops the run: guests are killed, the cases in progress and those after them are `missing`. */
  signal?: AbortSignal;
  /** Called after each case with its result and how many have finished (for live progress; completion order). */
  onResult?: (r: CaseResult, index: number, total: number) => void;
}

const DEFAULT_CASE_TIMEOUT_MS = 60_000;
const RESET_TIMEOUT_MS = 30_000;
/** How long the guest may take to come clean before a case (dying cgroups need their pages freed). */
const CLEAN_BOUND_MS = 10_000;
/** Failures to get a usable guest in a row after which the run stops (the rest of the cases are missing). */
const MAX_BOOT_FAILURES = 3;

interface Planned {
  def: CaseDef;
  /** Repetition number, only when there are several (reports then suffix the case names). */
  repeat?: number;
  /** The case's variants this run executes (undefined for a case without variants). */
  variants?: string[];
  skipReason?: string;
}

/** The run has to stop; the cases not run yet are missing, with this reason. */
class RunAborted extends Error {}

export async function runSuite(opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const variants = opts.variants ?? { seed: defaultVariantSeed(), all: false };
  const plan = planRuns(opts, variants);
  const queue = new WorkQueue<CaseResult>(plan.length);
  const emit = (i: number, r: CaseResult) => {
    const done = queue.record(i, r);
    opts.onResult?.(r, done, plan.length);
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, plan.filter((p) => !p.skipReason).length));
  let pool: GuestPool | undefined;
  let stopped: string | undefined;
  try {
    const { handles, drives } = await attachImages(opts, plan);
    const standby = standbyGuests(jobs, os.availableParallelism(), opts.spareGuest);
    pool = new GuestPool({ kernel: opts.kernel, drives, memoryMiB: opts.memoryMiB, cpus: opts.cpus, artifactsDir: opts.outDir, standby, restore: opts.restore });
    const p = pool;
    const shared: Shared = { bootFailures: 0, queue };
    await runWorkers(queue, jobs, () => new CaseLoop(opts, p, handles, plan, shared, emit).run(), () => p.abort());
  } catch (err) {
    stopped = err instanceof RunAborted ? err.message : `run aborted: ${firstLine(err)}`;
  } finally {
    await pool?.close();
  }
  for (const i of queue.unfinished()) {
    const p = plan[i];
    emit(i, p.skipReason ? baseResult(p, "skip", p.skipReason) : baseResult(p, "missing", stopped ?? "never executed"));
  }
  return {
    schema: "pcshare-results/1",
    startedAt,
    finishedAt: new Date().toISOString(),
    host: await hostInfo(opts.kernel),
    kernel: opts.kernel.info,
    tools: await toolVersions(),
    jobs,
    ...(plan.some((p) => p.variants) && { variantSeed: variants.seed, allVariants: variants.all }),
    cases: queue.results as CaseResult[],
    boots: pool?.boots ?? [],
    provenance: await runProvenance(opts.kernel, opts.specs, plan.filter((p) => !p.skipReason).flatMap((p) => p.def.images ?? [])),
  };
}

function planRuns(opts: RunOptions, choice: VariantChoice): Planned[] {
  const repeat = opts.repeat ?? 1;
  const plan: Planned[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const def of opts.cases) {
      plan.push({ def, repeat: repeat > 1 ? r : undefined, variants: chosenVariants(def, choice), skipReason: unmetRequirement(opts.kernel, def.requires) });
    }
  }
  return plan;
}

/** Build the images the runnable cases need: their guest handles and the drives that attach them. */
async function attachImages(opts: RunOptions, plan: Planned[]): Promise<{ handles: Map<string, ImageHandle>; drives: Drive[] }> {
  const names = [...new Set(plan.filter((p) => !p.skipReason).flatMap((p) => p.def.images ?? []))];
  const built = names.length ? await buildImages(opts.specs, { names }) : new Map();
  const handles = new Map<string, ImageHandle>();
  const drives: Drive[] = [];
  for (const b of built.values()) {
    handles.set(b.name, {
      name: b.name,
      manifest: b.manifest,
      device: `/dev/disk/pcshare/${b.name}`,
      imagePath: b.imagePath,
      blobDevices: b.devicePaths.map((_: string, i: number) => `/dev/disk/pcshare/${blobDriveName(b.name, i)}`),
    });
    // Each image is one drive; a multi-device image's blob devices (mkfs --blobdev) follow as drives of their own.
    drives.push({ name: b.name, path: b.imagePath, readOnly: true });
    b.devicePaths.forEach((p: string, i: number) => drives.push({ name: blobDriveName(b.name, i), path: p, readOnly: true }));
  }
  return { handles, drives };
}

/** What the workers of one run share: the queue of planned runs and the failed boots in a row. */
interface Shared {
  queue: WorkQueue<CaseResult>;
  bootFailures: number;
}

/** One worker: takes the next planned run from the queue and runs it on its own guest, until none is left. */
class CaseLoop {
  private guest?: { vm: Vm; base: Baseline };

  constructor(
    private readonly opts: RunOptions,
    private readonly pool: GuestPool,
    private readonly images: Map<string, ImageHandle>,
    private readonly plan: Planned[],
    private readonly shared: Shared,
    private readonly emitAt: (i: number, r: CaseResult) => void,
  ) {}

  async run(): Promise<void> {
    const signal = this.opts.signal;
    const onAbort = () => void this.pool.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (let i = this.shared.queue.take(); i !== undefined; i = this.shared.queue.take()) {
        const p = this.plan[i];
        const emit = (r: CaseResult) => this.emitAt(i, r);
        this.stopIfAborted();
        if (p.skipReason) {
          emit(baseResult(p, "skip", p.skipReason));
          continue;
        }
        const ready = await this.cleanGuest(p, emit);
        if (!ready) continue; // the boot failed: that case has its error
        const result = await this.runOne(ready.vm, p, ready.clean);
        this.stopIfAborted(); // a case cut short by the signal (or another worker's stop) is missing, not an error
        emit(result);
      }
      this.stopIfAborted(); // the queue was halted by another worker: its reason is the run's
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private stopIfAborted(): void {
    const s = this.opts.signal;
    if (s?.aborted) throw new RunAborted(`run interrupted (${s.reason instanceof Error ? s.reason.message : String(s.reason ?? "aborted")})`);
    const halted = this.shared.queue.reason;
    if (halted !== undefined) throw halted instanceof RunAborted ? halted : new RunAborted(`run aborted: ${firstLine(halted)}`);
  }

  /** A guest in use, or a fresh one. A failed boot is an error of the case; two in a row stop the run. */
  private async takeGuest(p: Planned, emit: (r: CaseResult) => void): Promise<{ vm: Vm; base: Baseline } | undefined> {
    if (this.guest?.vm.alive) return this.guest;
    if (this.guest) await this.pool.discard(this.guest.vm);
    this.guest = undefined;
    let vm: Vm | undefined;
    try {
      vm = await this.pool.take();
      this.guest = { vm, base: await captureBaseline(vm.agent) };
      this.shared.bootFailures = 0;
      return this.guest;
    } catch (err) {
      if (vm) await this.pool.discard(vm); // booted, but its state could not be read: not usable
      this.stopIfAborted();
      const why = `${vm ? "guest not usable after boot" : "guest did not boot"}: ${firstLine(err)}`;
      if (++this.shared.bootFailures >= MAX_BOOT_FAILURES) throw new RunAborted(`run aborted: no usable guest ${MAX_BOOT_FAILURES} times in a row (${why})`);
      emit({ ...baseResult(p, "error", why), consoleExcerpt: err instanceof VmError ? err.consoleTail : undefined });
      return undefined;
    }
  }

  /**
   * A guest as clean as a fresh one for the next case: the one in use after undoing what earlier
   * cases left, or, when that does not come clean within the bound, a fresh guest.
   */
  private async cleanGuest(p: Planned, emit: (r: CaseResult) => void): Promise<{ vm: Vm; clean: CleanState } | undefined> {
    const g = await this.takeGuest(p, emit);
    if (!g) return undefined;
    const bound = this.opts.cleanBoundMs ?? CLEAN_BOUND_MS * slowdownFactor(this.opts.kernel);
    let clean: CleanState;
    try {
      const c = await g.vm.step(`clean state before ${p.def.id}`, bound + RESET_TIMEOUT_MS, (agent) => makeClean(agent, g.base, bound));
      clean = { checks: c.checks, leftovers: c.leftovers, rounds: c.rounds, ms: c.ms, freshGuest: !c.clean };
    } catch (err) {
      if (!(err instanceof VmError)) throw err;
      const gone = { name: "guest answers", ok: false, expected: "yes", seen: firstLine(err) };
      clean = { checks: [gone], leftovers: [`${gone.name}: ${gone.seen}`], rounds: 1, ms: 0, freshGuest: true };
    }
    if (!clean.freshGuest) return { vm: g.vm, clean };
    await this.pool.discard(g.vm);
    this.guest = undefined;
    const fresh = await this.takeGuest(p, emit);
    return fresh && { vm: fresh.vm, clean };
  }

  private async runOne(vm: Vm, p: Planned, clean: CleanState): Promise<CaseResult> {
    const { def } = p;
    const ctx = new CaseContext(vm.agent, this.opts.kernel, this.images, def.id, p.variants);
    // Every request of the case and of its reset is recorded (steps.json), for `pcshare repro`.
    const recorder = new StepRecorder(() => ctx.checks.length);
    vm.agent.tap = recorder;
    const mark = vm.console.mark();
    const started = Date.now();
    let end: CaseEnd = { how: "finished" };
    let errCrashes: CrashReport[] = [];
    try {
      await vm.step(caseLabel(def), (def.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS) * slowdownFactor(this.opts.kernel), () => def.run(ctx));
    } catch (err) {
      end = caseEndOf(err);
      if (err instanceof VmError) errCrashes = err.crashes;
    }
    const guestMs = Date.now() - started; // also when the case failed, crashed or timed out: the guest was busy with it
    // A guest whose kernel reported a fatal crash is discarded without a reset (see guestUsableAfter);
    // when the case ended by itself the report may still be printing: wait as the step's crash watch does.
    const usable = vm.alive && guestUsableAfter(end, errCrashes.length ? errCrashes : vm.crashes(mark));
    if (!usable && vm.alive && guestUsableAfter(end)) await sleep(FATAL_GRACE_MS);
    const after = usable ? await this.resetAfter(vm, ctx, def) : { reset: { how: "not-run" } as ResetEnd, dmesg: "", crashes: [] };
    vm.agent.tap = undefined;
    const crashes = errCrashes.length ? errCrashes : after.crashes.length ? after.crashes : vm.crashes(mark);
    await symbolizeCrashes(this.opts.kernel, crashes);
    const verdict = classifyCase({ end, checks: ctx.checks, crashes, reset: after.reset });
    const lost = end.how === "timeout" || end.how === "crash-detected" || end.how === "guest-lost" || after.reset.how === "failed";
    if (lost || crashes.some((c) => FATAL_KINDS.has(c.kind)) || (this.opts.newGuestAfterReport && crashes.length > 0)) {
      await this.pool.discard(vm);
      this.guest = undefined;
    }
    const consoleText = vm.console.since(mark);
    const result: CaseResult = {
      ...baseResult(p, verdict.outcome, verdict.reason),
      durationMs: Date.now() - started,
      guestMs,
      checks: ctx.checks,
      measurements: ctx.measurements,
      findings: ctx.findings,
      crashes,
      cleanState: clean,
      artifacts: await writeCaseArtifacts(this.opts.outDir, caseDirName(def, p.repeat), { console: consoleText, dmesg: after.dmesg, qemuArgv: vm.argv, steps: recorder.record() }),
    };
    if (verdict.outcome !== "pass" && verdict.outcome !== "skip") result.consoleExcerpt = consoleExcerpt(crashes, after.dmesg, consoleText);
    return result;
  }

  /** Undo the case's mounts and cgroups and collect its kernel log, while the guest still answers. */
  private async resetAfter(vm: Vm, ctx: CaseContext, def: CaseDef): Promise<{ reset: ResetEnd; dmesg: string; crashes: CrashReport[] }> {
    let dmesg = "";
    try {
      await vm.step(`reset after ${def.id}`, RESET_TIMEOUT_MS * slowdownFactor(this.opts.kernel), async () => {
        await ctx.reset();
        dmesg = formatKmsg(await vm.agent.kmsg());
      });
      return { reset: { how: "done" }, dmesg, crashes: [] };
    } catch (err) {
      const end = caseEndOf(err);
      const reset: ResetEnd = { how: "failed", reason: "reason" in end ? end.reason : firstLine(err), crashDetected: end.how === "crash-detected" };
      return { reset, dmesg, crashes: err instanceof VmError ? err.crashes : [] };
    }
  }
}

function baseResult(p: Planned, outcome: Outcome, reason?: string): CaseResult {
  const { def } = p;
  const facts = { id: def.id, name: def.name, groups: def.groups, tags: def.tags ?? [], concern: def.concern, ...(def.concernTag && { concernTag: def.concernTag }) };
  return { ...resultWithoutWork(facts, outcome, reason, p.repeat), ...(p.variants && { variants: p.variants }), needsDebugKernel: def.debug };
}

export async function hostInfo(kernel: Kernel): Promise<RunResult["host"]> {
  const host: RunResult["host"] = { hostname: os.hostname(), accel: "unknown", cpus: os.cpus().length, qemu: "", node: process.version };
  try {
    const guest = await prepareGuest(kernel);
    host.accel = `${guest.accel.accel} (${guest.accel.reason})`;
    host.qemu = (await execa(guest.qemu, ["--version"], { reject: false })).stdout.split("\n")[0] ?? "";
    host.qemuConfinement = guest.confinement;
    host.driveBus = guest.driveBus;
  } catch (err) {
    host.accel = `unknown (${firstLine(err)})`;
  }
  return host;
}

export async function toolVersions(): Promise<Record<string, string>> {
  const tools: Record<string, string> = {};
  try {
    const t = await erofsTools();
    tools["mkfs.erofs"] = `${t.version} (${t.source})`;
  } catch {
    /* not needed by this run */
  }
  try {
    const bb = await execa(await findBusybox(), [], { reject: false });
    tools.busybox = bb.stdout.split("\n")[0]?.replace(/ multi-call binary\.?/, "") ?? "";
  } catch {
    /* recorded when present */
  }
  return tools;
}

/**
 * Drive name (virtio-blk serial, at most 20 of [A-Za-z0-9._-]) of blob device `i` of image `image`:
 * `<image>.<i>`, or when that is too long `<prefix>.<hash>.<i>`. Image names have no ".", so these
 * never collide with an image's drive.
 */
export function blobDriveName(image: string, i: number): string {
  const plain = `${image}.${i}`;
  if (plain.length <= 20) return plain;
  const hash = sha256Hex(image).slice(0, 6);
  return `${image.slice(0, 20 - hash.length - String(i).length - 2)}.${hash}.${i}`;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}
