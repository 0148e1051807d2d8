// Which accelerator to use: TCG unless a probe proves KVM boots a kernel to userspace here.
// A /dev/kvm node alone proves nothing (some hosts expose one that cannot run a normal guest).
// The probe result is cached per host boot (boot_id) and QEMU binary; PCSHARE_ACCEL overrides.
import { access, readFile, writeFile, mkdir, constants } from "node:fs/promises";
import path from "node:path";
import { spawnLeashed } from "../util/leash.ts";
import { trackLeashed } from "./reaper.ts";
import { cacheRoot } from "../util/cache.ts";
import { sha256Hex } from "../util/hash.ts";
import { InputError } from "../util/input-error.ts";
import { qemuArgs, guestCmdline, type HostCaps } from "./qemu-args.ts";

export interface AccelDecision {
  accel: "kvm" | "tcg";
  reason: string;
}

const PROBE_TIMEOUT_MS = 20_000;

async function kvmAccessible(): Promise<boolean> {
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Boot `kernel` + `initrd` under KVM with pcshare.probe=1; true if init reports it reached userspace. */
export async function probeKvmBoot(qemu: string, kernel: string, initrd: string): Promise<{ ok: boolean; detail: string }> {
  const argv = qemuArgs(
    { kernel, initrd, cmdline: guestCmdline({ extra: ["pcshare.probe=1"] }), memoryMiB: 256, cpus: 1, drives: [], console: "pipe" },
    { qemu, accel: "kvm" },
  );
  const leash = spawnLeashed(argv[0], argv.slice(1), { reject: false, timeout: PROBE_TIMEOUT_MS, all: true });
  trackLeashed(leash);
  const r = await leash.proc;
  const exit = await leash.childExit;
  const out = String(r.all ?? "");
  if (out.includes("pcshare-init: probe ok")) return { ok: true, detail: "KVM booted the kernel to userspace" };
  const why = r.timedOut ? `no userspace within ${PROBE_TIMEOUT_MS / 1000} s` : exit.signal ? `QEMU killed by ${exit.signal}` : `QEMU exit ${exit.code}`;
  const lastLine = out.trim().split("\n").slice(-1)[0] ?? "";
  return { ok: false, detail: `KVM probe failed: ${why}${lastLine ? ` (last output: ${lastLine.slice(0, 160)})` : ""}` };
}

export async function chooseAccel(qemu: string, kernel: string, initrd: string): Promise<AccelDecision> {
  const forced = process.env.PCSHARE_ACCEL;
  if (forced === "tcg") return { accel: "tcg", reason: "PCSHARE_ACCEL=tcg" };
  if (!(await kvmAccessible())) {
    if (forced === "kvm") throw new InputError("PCSHARE_ACCEL=kvm: /dev/kvm is missing or not accessible here; unset PCSHARE_ACCEL to use TCG");
    return { accel: "tcg", reason: "/dev/kvm missing or not accessible" };
  }
  const decision = await probedAccel(qemu, kernel, initrd);
  // An explicit kvm is honoured only where KVM works: otherwise every boot would fail obscurely.
  if (forced === "kvm") {
    if (decision.accel !== "kvm") throw new InputError(`PCSHARE_ACCEL=kvm: KVM does not work on this host (${decision.reason}); unset PCSHARE_ACCEL to use TCG`);
    return { accel: "kvm", reason: `PCSHARE_ACCEL=kvm (${decision.reason})` };
  }
  return decision;
}

/** The KVM probe's verdict, cached per host boot (boot_id), kernel and QEMU binary. */
async function probedAccel(qemu: string, kernel: string, initrd: string): Promise<AccelDecision> {
  const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "unknown")).trim();
  const file = path.join(cacheRoot(), "probes", `kvm2-${bootId}-${sha256Hex(kernel + "\0" + qemu).slice(0, 16)}.json`);
  try {
    return JSON.parse(await readFile(file, "utf8")) as AccelDecision;
  } catch {
    /* not probed yet in this host boot */
  }
  const probe = await probeKvmBoot(qemu, kernel, initrd);
  const decision: AccelDecision = probe.ok ? { accel: "kvm", reason: probe.detail } : { accel: "tcg", reason: probe.detail };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(decision));
  return decision;
}

export type { HostCaps };
