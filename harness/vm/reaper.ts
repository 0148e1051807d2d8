// Guaranteed teardown: every QEMU process and temporary directory pcshare creates is registered
// here and removed when the run ends, on error, on SIGINT/SIGTERM/SIGHUP, or at process exit.
import { rmSync } from "node:fs";
import type { ChildProcess } from "node:child_process";

const processes = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function killAll(): void {
  for (const p of processes) {
    try {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  processes.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(code);
    });
  }
}

export function trackProcess(p: ChildProcess): void {
  install();
  processes.add(p);
  p.once("exit", () => processes.delete(p));
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

/** Number of live processes still tracked (tests assert 0 after a run). */
export function liveProcesses(): number {
  return [...processes].filter((p) => p.exitCode === null && p.signalCode === null).length;
}
