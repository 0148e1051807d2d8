// How many guests a run uses at once (`--jobs`), when not given: what the host allows. Under TCG
// each busy guest keeps one host core busy (one vCPU thread runs the case), so one guest per core;
// under KVM one per guest-CPU-worth of cores. An overloaded host (1-minute load average above the
// core count) gets one guest fewer per unit of load beyond it: there parallel guests only compete
// with each other and their boots risk the boot timeout (docs/runner.md has the measurement). Memory: each guest takes its
// RAM (-m) plus QEMU's own (GUEST_OVERHEAD_MIB), and MEMORY_HEADROOM_MIB of the available memory
// stays free for the host (builds, node, the page cache of the images). Never more guests than
// runnable cases.
import os from "node:os";
import { prepareGuest } from "../vm/launch.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { CaseDef } from "./case.ts";
import { unmetRequirement } from "./requirements.ts";

/** QEMU's own memory beside the guest's RAM: TCG's translation cache, device state, I/O buffers. */
export const GUEST_OVERHEAD_MIB = 256;
/** Available memory that parallel guests leave to the rest of the host. */
export const MEMORY_HEADROOM_MIB = 2048;

export interface HostShape {
  /** os.availableParallelism(). */
  cpus: number;
  /** Memory the host can hand out now (os.freemem(): MemAvailable on Linux), MiB. */
  availableMiB: number;
  accel: "kvm" | "tcg";
  /** 1-minute load average (os.loadavg()[0]). */
  load: number;
}

export interface GuestShape {
  memoryMiB: number;
  cpus: number;
}

export interface JobsChoice {
  jobs: number;
  /** One line: why this many (printed when --jobs was not given). */
  why: string;
}

/** The default number of guests at once for `runnable` cases. Pure: the host is passed in. */
export function defaultJobs(host: HostShape, guest: GuestShape, runnable: number): JobsChoice {
  const byCpu = host.accel === "tcg" ? host.cpus : Math.floor(host.cpus / guest.cpus);
  const perGuest = guest.memoryMiB + GUEST_OVERHEAD_MIB;
  const byMemory = Math.floor((host.availableMiB - MEMORY_HEADROOM_MIB) / perGuest);
  const limits = [
    { n: byCpu, why: host.accel === "tcg" ? `${host.cpus} CPU(s), one TCG guest per core` : `${host.cpus} CPU(s) / ${guest.cpus} per KVM guest` },
    { n: host.load <= host.cpus ? host.cpus : Math.max(0, Math.round(2 * host.cpus - host.load)), why: `load average ${host.load.toFixed(2)} on ${host.cpus} CPU(s)` },
    { n: byMemory, why: `${Math.round(host.availableMiB)} MiB available - ${MEMORY_HEADROOM_MIB} MiB headroom, ${perGuest} MiB per guest (${guest.memoryMiB} + ${GUEST_OVERHEAD_MIB} QEMU)` },
    { n: runnable, why: `${runnable} runnable case(s)` },
  ];
  const tightest = limits.reduce((a, b) => (b.n < a.n ? b : a));
  const jobs = Math.max(1, tightest.n);
  return { jobs, why: `${jobs} guest(s) at once: ${limits.map((l) => `${l.n} by ${l.why}`).join("; ")}` };
}

/** This host's shape for defaultJobs. */
export function hostShape(accel: "kvm" | "tcg"): HostShape {
  return { cpus: os.availableParallelism(), availableMiB: os.freemem() / 2 ** 20, accel, load: os.loadavg()[0] };
}

/**
 * Standby guests (booting ahead of need) for `jobs` guests at once: one while a core is left beside
 * the busy guests, else none (a boot would take CPU from running cases). PCSHARE_SPARE_GUEST=0 or 1
 * and `forced` (which wins) decide outright.
 */
export function standbyGuests(jobs: number, cpus: number, forced?: boolean): number {
  const env = process.env.PCSHARE_SPARE_GUEST;
  const on = forced ?? (env === "0" ? false : env === "1" ? true : undefined);
  if (on !== undefined) return on ? 1 : 0;
  return jobs < cpus ? 1 : 0;
}

export interface JobsRequest {
  /** --jobs when given. */
  given?: number;
  kernel: Kernel;
  cases: readonly CaseDef[];
  repeat?: number;
  /** Guest RAM and CPUs (default: bootGuest's, 1024 MiB and 2). */
  memoryMiB?: number;
  cpus?: number;
}

/**
 * --jobs when given, else defaultJobs for this host, the kernel's accelerator and the runnable cases.
 * When the guest cannot be prepared (no usable QEMU), TCG is assumed: the run then reports that
 * failure on its cases, as it would serially.
 */
export async function resolveJobs(r: JobsRequest): Promise<JobsChoice> {
  if (r.given !== undefined) return { jobs: r.given, why: `--jobs ${r.given}` };
  const accel = await prepareGuest(r.kernel).then((g) => g.accel.accel, () => "tcg" as const);
  const runnable = r.cases.filter((c) => !unmetRequirement(r.kernel, c.requires)).length * (r.repeat ?? 1);
  return defaultJobs(hostShape(accel), { memoryMiB: r.memoryMiB ?? 1024, cpus: r.cpus ?? 2 }, runnable);
}
