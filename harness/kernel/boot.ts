// How a kernel is booted: through the PVH entry of its ELF vmlinux when it has one (QEMU starts it
// directly, without firmware real-mode setup and self-decompression), else from the bzImage. The
// vmlinux comes from the build (built kernels), from beside a given bzImage, or is extracted once
// from Debian's vmlinuz (kernel/pvh.ts). PCSHARE_BOOT or --boot forces one path for comparisons.
import { InputError } from "../util/input-error.ts";
import { extractedPvhVmlinux, NOT_ELF, pvhEntry } from "./pvh.ts";
import type { BootEntry, Kernel } from "./kernel.ts";

/** "auto": PVH when the kernel has the entry, else bzImage; the others force one path. */
export type BootMode = "auto" | BootEntry;
export const BOOT_MODES: readonly BootMode[] = ["auto", "pvh", "bzimage"];

/** The mode PCSHARE_BOOT names (validated before any command runs), default auto. */
export function bootModeFromEnv(env: NodeJS.ProcessEnv = process.env): BootMode {
  const v = env.PCSHARE_BOOT || "auto";
  if (!(BOOT_MODES as readonly string[]).includes(v)) throw new InputError(`PCSHARE_BOOT=${v}: unknown boot path; use ${BOOT_MODES.join(", ")}`);
  return v as BootMode;
}

/** The ELF vmlinux with a PVH entry that boots `kernel`, or why there is none. */
export async function pvhVmlinux(kernel: Kernel): Promise<{ vmlinux: string } | { problem: string }> {
  const own = await noteOf(kernel.image);
  // A kernel given as an ELF vmlinux boots as itself (or not through PVH at all).
  if ("vmlinux" in own || !own.problem.endsWith(NOT_ELF)) return own;
  if (kernel.vmlinux) return noteOf(kernel.vmlinux);
  if (kernel.info.source.startsWith("debian:")) return extractedPvhVmlinux(kernel.image, kernel.info.hashes.vmlinuz);
  return { problem: "no vmlinux beside the bzImage (put the build's vmlinux next to it for PVH boot)" };
}

async function noteOf(file: string): Promise<{ vmlinux: string } | { problem: string }> {
  const r = await pvhEntry(file).catch((err: Error) => ({ problem: err.message }));
  return "problem" in r ? { problem: `${file}: ${r.problem}` } : { vmlinux: file };
}

/** `kernel` with its boot path decided and recorded in its info (a new object; the input is unchanged). */
export async function chooseBoot(kernel: Kernel, mode: BootMode = bootModeFromEnv()): Promise<Kernel> {
  if (mode === "bzimage") return withBoot(kernel, "bzimage", kernel.image, "bzImage boot requested (PCSHARE_BOOT or --boot)");
  const pvh = await pvhVmlinux(kernel);
  if ("vmlinux" in pvh) return withBoot(kernel, "pvh", pvh.vmlinux);
  if (mode === "pvh") throw new InputError(`boot path pvh (--boot or PCSHARE_BOOT): kernel ${kernel.info.release} has no PVH entry: ${pvh.problem}; use auto or bzimage`);
  return withBoot(kernel, "bzimage", kernel.image, pvh.problem);
}

function withBoot(kernel: Kernel, entry: BootEntry, image: string, reason?: string): Kernel {
  const info = { ...kernel.info, boot: entry, ...(reason ? { bootReason: reason } : {}) };
  if (!reason) delete info.bootReason;
  return { ...kernel, info, boot: { entry, image } };
}
