// Guaranteed teardown: every child that must not outlive pcshare (QEMU, make) runs under a leash
// (util/leash.ts) and is registered here with the temporary directories and locks pcshare holds.
// On SIGINT/SIGTERM/SIGHUP the children are stopped and waited for (make deletes half-written
// targets), then directories and locks are removed and pcshare exits 128+signal. At any other exit
// the leashes see their control socket close and stop the children themselves.
// Started by npm or npx, pcshare also stops when its launcher goes away: npm forwards a signal only
// to its direct child, a shell that dies of it without passing it on. A run in progress may take the
// first signal (onInterrupt) to stop cleanly and still write its results; a second one shuts down.
import { rmSync } from "node:fs";
import os from "node:os";
import type { Leashed } from "../util/leash.ts";

/** While set, the first signal goes here instead of shutting down. */
let interruptHandler: ((signal: NodeJS.Signals) => void) | undefined;

const children = new Set<Leashed>();
const dirs = new Set<string>();
let installed = false;
let shuttingDown = false;

/** Backstop: the leashes SIGKILL what has not stopped within its grace period (30 s for make). */
const STOP_WAIT_MS = 40_000;
const LAUNCHER_POLL_MS = 500;

function removeDirs(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) {
    // A second signal: do not wait any longer.
    for (const c of children) c.kill();
    removeDirs();
    process.exit(code);
  }
  shuttingDown = true;
  const exits = [...children].map((c) => {
    c.stop();
    return c.proc.catch(() => undefined);
  });
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
  removeDirs();
  process.exit(code);
}

/** npm's child is a shell (npx) or pcshare itself (npm run with exec): either way, our parent. */
function watchLauncher(): void {
  if (!process.env.npm_command) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      void shutdown(129);
    }
  }, LAUNCHER_POLL_MS);
  timer.unref();
}

/** Installs the signal handlers (once); the CLI calls it at start, tracking calls it too. */
export function installReaper(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const c of children) c.stop();
    removeDirs();
  });
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(sig, () => {
      const handler = interruptHandler;
      interruptHandler = undefined;
      if (handler && !shuttingDown) return handler(sig);
      void shutdown(code);
    });
  }
  watchLauncher();
}

/**
 * Route the next SIGINT/SIGTERM/SIGHUP to `handler` instead of shutting down at once (a second
 * signal still does that). Returns the function that removes the handler.
 */
export function onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
  installReaper();
  interruptHandler = handler;
  return () => {
    if (interruptHandler === handler) interruptHandler = undefined;
  };
}

/** The exit status of a process ended by `signal` (128 + its number). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}

export function trackLeashed(c: Leashed): void {
  installReaper();
  children.add(c);
  c.proc.finally(() => children.delete(c)).catch(() => {});
}

/** A directory (temporary, or a lock) removed at exit unless released first. */
export function trackDir(dir: string): void {
  installReaper();
  dirs.add(dir);
}

export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

/** Number of live children still tracked (tests assert 0 after a run). */
export function liveProcesses(): number {
  return [...children].filter((c) => c.proc.exitCode === null && c.proc.signalCode === null).length;
}
