// Per-case artifacts, as fstests keeps them: the console since the case began (console.log), the
// kernel log it produced (dmesg.log), the QEMU command of its guest (qemu.cmd) and the requests it
// sent the guest (steps.json, runner/steps.ts), in
// <out>/cases/<id>-<name>[.r<repeat>]/; and the console excerpt a failed case carries in its result.
import path from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { shellQuote } from "../vm/qemu-args.ts";
import type { CrashReport } from "../report/model.ts";
import type { KmsgRecord } from "../guest/protocol.ts";
import type { StepRecord } from "./steps.ts";

export interface CaseArtifacts {
  console: string;
  dmesg: string;
  qemuArgv: string[];
  steps?: StepRecord;
}

/** Write the files; returns their paths relative to outDir, as CaseResult.artifacts. */
export async function writeCaseArtifacts(outDir: string, caseDir: string, a: CaseArtifacts): Promise<Record<string, string>> {
  const dir = path.join(outDir, "cases", caseDir);
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = { console: "console.log", dmesg: "dmesg.log", qemu: "qemu.cmd" };
  await writeFile(path.join(dir, files.console), a.console);
  await writeFile(path.join(dir, files.dmesg), a.dmesg);
  await writeFile(path.join(dir, files.qemu), shellQuote(a.qemuArgv) + "\n");
  if (a.steps) {
    files.steps = "steps.json";
    await writeFile(path.join(dir, files.steps), `${JSON.stringify(a.steps)}\n`);
  }
  return Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.relative(outDir, path.join(dir, f))]));
}

/** The directory name of a case's artifacts: "F1-same-domain-shares-frames", ".r2" for repetition 2. */
export function caseDirName(c: { id: string; name: string }, repeat?: number): string {
  return `${c.id}-${c.name}${repeat ? `.r${repeat}` : ""}`;
}

/** Kernel log records as dmesg prints them: "[   1.234567] text". */
export function formatKmsg(records: readonly KmsgRecord[]): string {
  return records.map((r) => `[${(r.ts_us / 1e6).toFixed(6)}] ${r.text}`).join("\n");
}

/** What a failed case shows: its crash reports (symbolized when possible), else the end of its log. */
export function consoleExcerpt(crashes: readonly CrashReport[], dmesg: string, consoleText: string, lines = 40): string {
  if (crashes.length) return crashes.map((c) => c.symbolized ?? c.excerpt).join("\n...\n");
  return (dmesg || consoleText).split("\n").slice(-lines).join("\n");
}
