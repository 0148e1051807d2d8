// Symbolizes crash excerpts with the kernel's own scripts/decode_stacktrace.sh against the exact
// vmlinux that was booted: "func+0x1a/0x40" becomes "func (fs/erofs/super.c:872)", with inlined
// frames. Needs a vmlinux with DWARF (the debug fragment has it) and binutils' addr2line on the host.
import path from "node:path";
import { execa } from "execa";
import type { Kernel } from "./kernel.ts";
import { exists, firstExisting } from "../util/fs.ts";
import type { CrashReport } from "../report/model.ts";

const DECODE_TIMEOUT_MS = 120_000;

/** The decode_stacktrace.sh that belongs with this vmlinux: kept beside it, or in the tree it was built in. */
export async function findDecodeScript(vmlinux: string): Promise<string | undefined> {
  const dir = path.dirname(vmlinux);
  return firstExisting([
    path.join(dir, "decode_stacktrace.sh"),
    path.join(dir, "scripts", "decode_stacktrace.sh"),
    path.join(dir, "source", "scripts", "decode_stacktrace.sh"), // an O= build directory
  ]);
}

/** Whether crash traces of this kernel can be turned into file:line. */
export function canSymbolize(kernel: Kernel): boolean {
  return Boolean(kernel.vmlinux && kernel.decodeScript && kernel.config.CONFIG_DEBUG_INFO === "y");
}

/**
 * Adds `symbolized` to each crash whose excerpt has frames decode_stacktrace.sh resolves. A failure of
 * the script is noted in the crash rather than thrown: the raw excerpt is still the result.
 */
export async function symbolizeCrashes(kernel: Kernel, crashes: CrashReport[]): Promise<void> {
  if (!canSymbolize(kernel) || crashes.length === 0) return;
  if (!(await exists(kernel.vmlinux!))) {
    // The script would print its input unchanged, as if there were nothing to resolve.
    for (const crash of crashes) crash.symbolizeError = `vmlinux not found: ${kernel.vmlinux}`;
    return;
  }
  for (const crash of crashes) {
    const r = await execa("bash", [kernel.decodeScript!, kernel.vmlinux!, "auto"], {
      input: crash.excerpt + "\n", // the script's read loop drops a last line without a newline
      reject: false,
      timeout: DECODE_TIMEOUT_MS,
      env: { LC_ALL: "C" },
    });
    if (r.exitCode === 0 && r.stdout.trim() && r.stdout.trim() !== crash.excerpt.trim()) crash.symbolized = r.stdout;
    else if (r.exitCode !== 0) crash.symbolizeError = `decode_stacktrace.sh exited ${r.exitCode ?? r.signal}: ${(r.stderr || r.stdout).split("\n")[0]}`;
  }
}
