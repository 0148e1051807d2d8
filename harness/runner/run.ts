// Runs cases on one kernel: skips those whose requirements the kernel does not meet, builds the
// images the rest need, boots one guest and runs the cases in it one after another (resetting state
// between them), and moves to a fresh guest after any crash or timeout (a standby one, booted beside
// the running guest, when the host has CPUs to spare). Produces the RunResult.
import os from "node:os";
import path from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { slowdownFactor, type Kernel } from "../kernel/kernel.ts";
import type { CaseDef } from "./case.ts";
import { caseLabel } from "./case.ts";
import { unmetRequirement } from "./requirements.ts";
import { CaseContext, AssertionStop, CaseSkip, type ImageHandle } from "./context.ts";
import { buildImages, type BuiltImage } from "../images/build.ts";
import { erofsTools } from "../images/erofs-utils.ts";
import { bootGuest, prepareGuest } from "../vm/launch.ts";
import type { Vm } from "../vm/vm.ts";
import { shellQuote } from "../vm/qemu-args.ts";
import { VmError, StepTimeout } from "../vm/errors.ts";
import { FATAL_KINDS } from "../vm/crash.ts";
import type { CaseResult, RunResult, Outcome, CrashReport, BootRecord } from "../report/model.ts";
import { symbolizeCrashes } from "../kernel/symbolize.ts";
import { findBusybox } from "../util/host-tools.ts";
import { sha256Hex } from "../util/hash.ts";

export interface RunOptions {
  kernel: Kernel;
  cases: CaseDef[];
  outDir: string;
  specFiles: string[];
  repeat?: number;
  memoryMiB?: number;
  /** Guest CPUs (default: bootGuest's). */
  cpus?: number;
  /** Boot a standby guest beside the running one (default: when the host has 2+ CPUs; PCSHARE_SPARE_GUEST=0 turns it off). */
  spareGuest?: boolean;
  /** Called after each case with its result (for live progress). */
  onResult?: (r: CaseResult, index: number, total: number) => void;
}

const DEFAULT_CASE_TIMEOUT_MS = 60_000;
const RESET_TIMEOUT_MS = 30_000;

export async function runSuite(opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const repeat = opts.repeat ?? 1;
  const plan: { def: CaseDef; repeat: number | undefined }[] = [];
  // Repetitions are numbered only when there are several (reports then suffix the case names).
  for (let r = 0; r < repeat; r++) for (const def of opts.cases) plan.push({ def, repeat: repeat > 1 ? r : undefined });
  const results: CaseResult[] = [];
  const emit = (r: CaseResult) => {
    results.push(r);
    opts.onResult?.(r, results.length, plan.length);
  };

  const runnable = plan.filter((p) => !unmetRequirement(opts.kernel, p.def.requires));
  const imageNames = [...new Set(runnable.flatMap((p) => p.def.images ?? []))];
  const built = imageNames.length ? await buildImages(opts.specFiles, { names: imageNames }) : new Map<string, BuiltImage>();
  const handles = new Map<string, ImageHandle>(
    [...built.values()].map((b) => [
      b.name,
      {
        name: b.name,
        manifest: b.manifest,
        device: `/dev/disk/pcshare/${b.name}`,
        imagePath: b.imagePath,
        blobDevices: b.devicePaths.map((_, i) => `/dev/disk/pcshare/${blobDriveName(b.name, i)}`),
      },
    ]),
  );
  // Each image is one drive; a multi-device image's blob devices (mkfs --blobdev) follow as drives of their own.
  const drives = [...built.values()].flatMap((b) => [
    { name: b.name, path: b.imagePath, readOnly: true },
    ...b.devicePaths.map((p, i) => ({ name: blobDriveName(b.name, i), path: p, readOnly: true })),
  ]);
  const guest = await prepareGuest(opts.kernel);

  // After a kernel crash the next case needs a fresh guest. With a spare host CPU, a standby guest
  // boots beside the one running cases, so a crash costs a switch instead of a boot.
  const useSpare = opts.spareGuest ?? (os.availableParallelism() >= 2 && process.env.PCSHARE_SPARE_GUEST !== "0");
  let vm: Vm | undefined;
  /** A guest booting (or booted) for later use; `stop` kills it while it is still booting. */
  let spare: { booting: Promise<Vm>; stop: AbortController } | undefined;
  let bootsStarted = 0;
  const boots: BootRecord[] = [];
  const startBoot = () => {
    bootsStarted++;
    const stop = new AbortController();
    const booting = bootGuest(opts.kernel, {
      drives,
      memoryMiB: opts.memoryMiB,
      cpus: opts.cpus,
      artifactsDir: path.join(opts.outDir, `boot-${bootsStarted}`),
      signal: stop.signal,
    });
    booting.catch(() => {}); // a spare's failure surfaces when it is taken into use
    return { booting, stop };
  };
  const nextGuest = async (): Promise<Vm> => {
    const t0 = Date.now();
    const { booting } = spare ?? startBoot();
    spare = undefined;
    const next = await booting;
    if (useSpare) spare = startBoot(); // only now, so that it does not slow down the boot waited for
    await next.agent.kmsg(); // start each case's kernel log from here
    boots.push({ ...next.timing, waitedMs: Date.now() - t0 });
    return next;
  };

  try {
    for (const { def, repeat: rep } of plan) {
      const skipReason = unmetRequirement(opts.kernel, def.requires);
      if (skipReason) {
        emit(baseResult(def, rep, "skip", skipReason));
        continue;
      }
      if (!vm || !vm.alive) {
        if (vm) await vm.kill();
        try {
          vm = await nextGuest();
        } catch (err) {
          const e = err as Error;
          emit({ ...baseResult(def, rep, "error", `guest did not boot: ${e.message.split("\n")[0]}`), consoleExcerpt: err instanceof VmError ? err.consoleTail : undefined });
          vm = undefined;
          continue;
        }
      }
      const { result, guestLost } = await runOne(vm!, def, rep, opts, handles);
      emit(result);
      if (guestLost || result.crashes.some((c) => FATAL_KINDS.has(c.kind))) {
        await vm!.kill();
        vm = undefined;
      }
    }
  } finally {
    spare?.stop.abort(); // the guest in use powers off; the standby is killed, booted or not
    await Promise.all([vm?.shutdown(), spare?.booting.then((v) => v.kill()).catch(() => {})]);
  }

  return {
    schema: "pcshare-results/1",
    startedAt,
    finishedAt: new Date().toISOString(),
    host: {
      hostname: os.hostname(),
      accel: `${guest.accel.accel} (${guest.accel.reason})`,
      cpus: os.cpus().length,
      qemu: (await execa(guest.qemu, ["--version"], { reject: false })).stdout.split("\n")[0] ?? "",
      node: process.version,
      qemuConfinement: guest.confinement,
    },
    kernel: opts.kernel.info,
    tools: await toolVersions(),
    cases: results,
    boots,
  };
}

async function toolVersions(): Promise<Record<string, string>> {
  const tools: Record<string, string> = {};
  try {
    const t = await erofsTools();
    tools["mkfs.erofs"] = `${t.version} (${t.source})`;
  } catch {
    /* not needed by this run */
  }
  const bb = await execa(await findBusybox(), [], { reject: false });
  tools.busybox = bb.stdout.split("\n")[0]?.replace(/ multi-call binary\.?/, "") ?? "";
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

function baseResult(def: CaseDef, rep: number | undefined, outcome: Outcome, reason?: string): CaseResult {
  return {
    id: def.id,
    name: def.name,
    groups: def.groups,
    tags: def.tags ?? [],
    concern: def.concern,
    outcome,
    reason,
    durationMs: 0,
    checks: [],
    measurements: [],
    crashes: [],
    findings: [],
    artifacts: {},
    ...(rep !== undefined && { repeat: rep }),
    needsDebugKernel: def.debug,
  };
}

async function runOne(
  vm: Vm,
  def: CaseDef,
  rep: number | undefined,
  opts: RunOptions,
  images: Map<string, ImageHandle>,
): Promise<{ result: CaseResult; guestLost: boolean }> {
  const ctx = new CaseContext(vm.agent, opts.kernel, images, def.id);
  const mark = vm.console.mark();
  const started = Date.now();
  let outcome: Outcome = "pass";
  let reason: string | undefined;
  let crashes: CrashReport[] = [];
  let guestLost = false;
  try {
    await vm.step(caseLabel(def), (def.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS) * slowdownFactor(opts.kernel), () => def.run(ctx));
  } catch (err) {
    if (err instanceof CaseSkip) {
      outcome = "skip";
      reason = err.message;
    } else if (err instanceof AssertionStop) {
      outcome = "fail";
      reason = err.message;
    } else if (err instanceof VmError) {
      outcome = err instanceof StepTimeout ? "timeout" : "error";
      reason = err.message;
      crashes = err.crashes;
      guestLost = true;
    } else {
      outcome = "error";
      reason = (err as Error).message.split("\n")[0];
    }
  }
  const guestMs = Date.now() - started; // also when the case failed, crashed or timed out: the guest was busy with it
  // Reset and collect the kernel log while the guest still answers.
  let dmesg = "";
  if (vm.alive && outcome !== "timeout" && outcome !== "error") {
    try {
      await vm.step(`reset after ${def.id}`, RESET_TIMEOUT_MS * slowdownFactor(opts.kernel), async () => {
        await ctx.reset();
        dmesg = (await vm.agent.kmsg()).map((r) => `[${(r.ts_us / 1e6).toFixed(6)}] ${r.text}`).join("\n");
      });
    } catch (err) {
      if (err instanceof VmError) {
        outcome = "error";
        reason = `state reset after the case failed: ${err.message}`;
        crashes = err.crashes;
        guestLost = true;
      } else throw err;
    }
  }
  if (crashes.length === 0) crashes = vm.crashes(mark);
  await symbolizeCrashes(opts.kernel, crashes);
  const result = baseResult(def, rep, outcome, reason);
  result.durationMs = Date.now() - started;
  result.guestMs = guestMs;
  result.checks = ctx.checks;
  result.measurements = ctx.measurements;
  result.findings = ctx.findings;
  result.crashes = crashes;
  const failed = ctx.checks.find((c) => !c.ok);
  if (result.outcome === "pass" && failed) {
    result.outcome = "fail";
    result.reason = `${failed.name}: expected ${failed.expected ?? "-"}, seen ${failed.seen ?? "-"}`;
  }
  if (crashes.length && result.outcome !== "fail") {
    // A crash or warning during a case is a failure of the kernel, whatever the checks said, and
    // also when it took the guest or the agent down with it (the hang or exit is its consequence).
    const consequence = result.outcome === "pass" || result.outcome === "skip" || result.reason?.startsWith("kernel ") ? "" : ` (then: ${result.reason})`;
    result.outcome = "fail";
    result.reason = `kernel ${crashes[0].kind}: ${crashes[0].title}${consequence}`;
  }
  const dir = path.join(opts.outDir, "cases", `${def.id}-${def.name}${rep ? `.r${rep}` : ""}`);
  await mkdir(dir, { recursive: true });
  const consoleText = vm.console.since(mark);
  await writeFile(path.join(dir, "console.log"), consoleText);
  await writeFile(path.join(dir, "dmesg.log"), dmesg);
  await writeFile(path.join(dir, "qemu.cmd"), shellQuote(vm.argv) + "\n");
  result.artifacts = {
    console: path.relative(opts.outDir, path.join(dir, "console.log")),
    dmesg: path.relative(opts.outDir, path.join(dir, "dmesg.log")),
    qemu: path.relative(opts.outDir, path.join(dir, "qemu.cmd")),
  };
  if (result.outcome !== "pass" && result.outcome !== "skip") {
    result.consoleExcerpt = crashes.length ? crashes.map((c) => c.symbolized ?? c.excerpt).join("\n...\n") : tailLines(dmesg || consoleText, 40);
  }
  return { result, guestLost };
}

function tailLines(text: string, n: number): string {
  return text.split("\n").slice(-n).join("\n");
}
