// What the rest of pcshare knows about a kernel: its files, identity and capabilities.
// Every source (Debian package, given bzImage, built tree) resolves to a Kernel.
import { readFile } from "node:fs/promises";
import type { KernelInfo } from "../report/model.ts";

export interface Kernel {
  info: KernelInfo;
  /** Path of the bootable image (bzImage / vmlinuz). */
  image: string;
  /** Modules to load at boot, in load order (dependencies first), as uncompressed .ko paths. */
  modules: string[];
  /** Full parsed kernel config (CONFIG_X -> "y" | "m" | value), empty when unknown. */
  config: Record<string, string>;
  /** vmlinux with symbols, for symbolizing crash traces, when available. */
  vmlinux?: string;
  /** The kernel's scripts/decode_stacktrace.sh, to symbolize crash traces against vmlinux. */
  decodeScript?: string;
  /** What QEMU's -kernel gets and through which entry (kernel/boot.ts decides; absent: the bzImage). */
  boot?: { entry: BootEntry; image: string };
}

/** How a guest boots: "pvh" = the ELF vmlinux through its PVH entry, "bzimage" = firmware + self-decompression. */
export type BootEntry = "pvh" | "bzimage";

/** The file QEMU boots for this kernel. */
export function bootImage(k: Kernel): string {
  return k.boot?.image ?? k.image;
}

/** Config options recorded in every result (what the suite's verdicts depend on). */
export const RECORDED_OPTIONS = [
  "CONFIG_EROFS_FS",
  "CONFIG_EROFS_FS_PAGE_CACHE_SHARE",
  "CONFIG_EROFS_FS_BACKED_BY_FILE",
  "CONFIG_EROFS_FS_ZIP",
  "CONFIG_EROFS_FS_DEBUG",
  "CONFIG_KASAN",
  "CONFIG_PROVE_LOCKING",
  "CONFIG_DEBUG_VM",
  "CONFIG_MEMCG",
  "CONFIG_CACHESTAT_SYSCALL",
];

export function parseConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
    const off = line.match(/^# (CONFIG_[A-Za-z0-9_]+) is not set$/);
    if (off) out[off[1]] = "n";
  }
  return out;
}

export async function readConfig(file: string): Promise<Record<string, string>> {
  return parseConfig(await readFile(file, "utf8"));
}

export function recordedOptions(config: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const opt of RECORDED_OPTIONS) out[opt] = config[opt] ?? "n";
  return out;
}

/** Whether the kernel can share page cache (feature compiled in and erofs present). */
export function hasPageCacheShare(k: Kernel): boolean {
  return k.config.CONFIG_EROFS_FS_PAGE_CACHE_SHARE === "y" && ["y", "m"].includes(k.config.CONFIG_EROFS_FS ?? "n");
}

/**
 * How much slower than a plain kernel this one runs cases: sanitizers and lock checking instrument
 * every access. Timeouts are scaled by it (a KASAN + lockdep guest ran the suite ~4x slower under TCG).
 */
export function slowdownFactor(k: Kernel): number {
  const on = (opt: string) => k.config[opt] === "y";
  return on("CONFIG_KASAN") || on("CONFIG_PROVE_LOCKING") ? 4 : 1;
}
