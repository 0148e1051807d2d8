// Checks a case's requirements against the kernel's config before booting (fstests' _require_*).
import type { Kernel } from "../kernel/kernel.ts";
import type { Requirement } from "./case.ts";

const CHECKS: Record<Requirement, { option: string; values: string[]; reason: string }> = {
  erofs: { option: "CONFIG_EROFS_FS", values: ["y", "m"], reason: "kernel has no EROFS (CONFIG_EROFS_FS)" },
  "page-cache-share": {
    option: "CONFIG_EROFS_FS_PAGE_CACHE_SHARE",
    values: ["y"],
    reason: "kernel lacks EROFS page cache sharing (CONFIG_EROFS_FS_PAGE_CACHE_SHARE is not set)",
  },
  "file-backed": { option: "CONFIG_EROFS_FS_BACKED_BY_FILE", values: ["y"], reason: "kernel lacks file-backed EROFS mounts" },
  compression: { option: "CONFIG_EROFS_FS_ZIP", values: ["y"], reason: "kernel lacks EROFS compression" },
  memcg: { option: "CONFIG_MEMCG", values: ["y"], reason: "kernel lacks memory cgroups" },
  cachestat: { option: "CONFIG_CACHESTAT_SYSCALL", values: ["y"], reason: "kernel lacks cachestat(2)" },
  overlay: { option: "CONFIG_OVERLAY_FS", values: ["y", "m"], reason: "kernel lacks overlayfs" },
};

/** The reason the first unmet requirement gives, or undefined when all are met. */
export function unmetRequirement(kernel: Kernel, requires: Requirement[] = []): string | undefined {
  if (Object.keys(kernel.config).length === 0) return undefined; // unknown config: try and see
  for (const r of ["erofs" as const, ...requires]) {
    const c = CHECKS[r];
    if (!c.values.includes(kernel.config[c.option] ?? "n")) return c.reason;
  }
  return undefined;
}
