// From a Kernel to a running guest: builds the initramfs for its modules, decides the accelerator
// once per process, and boots. The one entry point the CLI, runner and tests use to get a guest.
import { readFileSync } from "node:fs";
import { buildInitramfs } from "../guest/initramfs.ts";
import { findQemu } from "../util/host-tools.ts";
import { chooseAccel, type AccelDecision } from "./accel.ts";
import type { HostCaps } from "./qemu-args.ts";
import { Vm, type BootOptions } from "./vm.ts";
import { discardSnapshot, snapshotFor, type RestoreMode } from "./snapshot.ts";
import { firmwareFor } from "./firmware.ts";
import { driveBusFromEnv, driveBusProblem, type DriveBus } from "./drive-bus.ts";
import { InputError } from "../util/input-error.ts";
import { hasRunWith, hasSandbox, qemuConfinement, type Confinement } from "./confine.ts";
import { bootImage, slowdownFactor, type Kernel } from "../kernel/kernel.ts";

export interface GuestOptions extends Omit<BootOptions, "kernelImage" | "initrd" | "host" | "templateRam" | "restoreFrom"> {
  /** Start from a snapshot of a ready guest when one can be had (vm/snapshot.ts); default "off". */
  restore?: RestoreMode;
}

const accelCache = new Map<string, Promise<AccelDecision>>();

let confinement: Promise<Confinement> | undefined;

export interface PreparedGuest {
  initrd: string;
  qemu: string;
  accel: AccelDecision;
  confinement: Confinement;
  runWith: boolean;
  driveBus: DriveBus;
}

export async function prepareGuest(kernel: Kernel): Promise<PreparedGuest> {
  const qemu = await findQemu();
  if (!(await hasSandbox(qemu))) throw new Error(`${qemu} has no seccomp sandbox (-sandbox): pcshare confines QEMU with it; install a QEMU built with libseccomp (Debian's qemu-system-x86 is)`);
  confinement ??= qemuConfinement();
  const driveBus = driveBusFromEnv();
  const busProblem = driveBusProblem(driveBus, kernel.config, kernel.info.release);
  if (busProblem) throw new InputError(busProblem);
  const { path: initrd } = await buildInitramfs(kernel.modules);
  const key = `${qemu}\0${kernel.image}`;
  if (!accelCache.has(key)) accelCache.set(key, chooseAccel(qemu, kernel.image, initrd));
  return { initrd, qemu, accel: await accelCache.get(key)!, confinement: await confinement, runWith: await hasRunWith(qemu), driveBus };
}

/** What qemuArgs needs to know about the host. */
export function hostCaps(g: PreparedGuest): HostCaps {
  return { qemu: g.qemu, accel: g.accel.accel, runAs: g.confinement.user, runWith: g.runWith, firmware: firmwareFor(g.qemu), driveBus: g.driveBus };
}

export async function bootGuest(kernel: Kernel, opts: GuestOptions = {}): Promise<Vm> {
  const guest = await prepareGuest(kernel);
  const { restore = "off", ...rest } = opts;
  const boot: BootOptions = {
    timeoutScale: slowdownFactor(kernel),
    ...rest,
    extraCmdline: [...kernelCmdline(kernel), ...(opts.extraCmdline ?? [])],
    kernelImage: bootImage(kernel),
    initrd: guest.initrd,
    host: hostCaps(guest),
  };
  if (restore === "off") return Vm.boot(boot);
  const restored = await restoreGuest(boot);
  if (restored instanceof Vm) return restored;
  const vm = await Vm.boot(boot);
  vm.timing.restoreProblem = restored.problem;
  return vm;
}

/** A guest restored from the snapshot for `boot` (made first if need be), or why there is none. */
async function restoreGuest(boot: BootOptions): Promise<Vm | { problem: string }> {
  if (boot.signal?.aborted) return { problem: "aborted" };
  let source;
  try {
    source = await snapshotFor(boot);
  } catch (err) {
    if (boot.signal?.aborted) throw err;
    const problem = `no snapshot could be made: ${firstLine(err)}`;
    process.stderr.write(`pcshare: ${problem}; booting instead\n`);
    return { problem };
  }
  try {
    return await Vm.boot({ ...boot, restoreFrom: source });
  } catch (err) {
    if (boot.signal?.aborted) throw err;
    const problem = `restoring the snapshot failed: ${firstLine(err)}`;
    process.stderr.write(`pcshare: ${problem}; booting instead (the snapshot is discarded and made anew next time)\n`);
    await discardSnapshot(source);
    return { problem };
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0];
}

/**
 * Boot parameters that depend on the kernel. With MSI, virtio-pci interrupts need none of ACPI's PCI
 * interrupt links, whose AML took a KASAN + lockdep kernel under TCG ~17 s of a 42 s boot with 60
 * drives (and the stock kernel ~0.5 s); without MSI the links are the only way to an interrupt.
 */
export function kernelCmdline(kernel: Kernel, hostMHz = hostCpuMHz()): string[] {
  return [...(kernel.config.CONFIG_PCI_MSI === "y" ? ["acpi=noirq"] : []), ...calibrationCmdline(kernel.config.CONFIG_HZ, hostMHz)];
}

/**
 * The delay-loop calibration, answered in advance. Under TCG the second CPU's direct calibration
 * failed ("calibrate_delay_direct() failed to get a good estimate") and fell back to the slow
 * converging loop: bringing it up took 0.27 s of guest time, 0.10 s with lpj= (Debian's 7.2.13, one
 * boot each on a loaded host). The guest's TSC ticks at the host's rate, so loops per jiffy is the
 * host's clock over HZ (x86 delays use the TSC: the figure only has to be plausible). Nothing is
 * added when HZ or the host's clock is unknown (a given kernel without its config).
 */
export function calibrationCmdline(hz: string | undefined, hostMHz: number | undefined): string[] {
  const perSecond = Number(hz);
  if (!Number.isInteger(perSecond) || perSecond <= 0 || !hostMHz || hostMHz <= 0) return [];
  return [`lpj=${Math.round((hostMHz * 1e6) / perSecond)}`];
}

/** The host CPU's clock from /proc/cpuinfo, MHz (undefined when it does not say). */
function hostCpuMHz(): number | undefined {
  try {
    const m = readFileSync("/proc/cpuinfo", "utf8").match(/^cpu MHz\s*:\s*([\d.]+)/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
