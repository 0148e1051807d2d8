// Keeps one child process from outliving pcshare. Plain Node without dependencies, so it starts in
// a few tens of milliseconds.  Usage: node leash.mjs <grace-ms> <own|group> <command> [args...]
//
// pcshare starts it with fd 3 one end of a socket pair. The leash writes the child's pid there, then
// reads until EOF, which comes when pcshare exits however it exits (the kernel closes pcshare's end
// even after SIGKILL). On that EOF, or on SIGTERM/SIGINT/SIGHUP, the child gets SIGTERM (QEMU exits,
// make stops its jobs and deletes half-written targets), and SIGKILL if it is still there after
// <grace-ms>. SIGUSR1 means SIGKILL at once. The child keeps the leash's stdio.
// "own": the child stays in pcshare's process group (a kill of that whole group reaches QEMU too).
// "group": the child leads a process group of its own, and the signals go to that whole group: make
// runs each recipe through a shell, and a SIGTERM to make alone kills those shells but not the
// compilers under them.
// A parent-death signal (prctl PR_SET_PDEATHSIG) on the child would not do: the kernel clears it when
// QEMU changes user (-runas).
// PCSHARE_LEASH_PASS_FDS=N hands the leash's file descriptors 4..3+N to the child under the same
// numbers (a snapshot's migration stream for QEMU); fd 3, the control socket, is never passed.
// Exit status: the child's exit code, or its fatal signal re-raised (128+signal for signals that dump
// core); the exact status is also sent on fd 3 as "exit <code> <signal>".
import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";

const [graceArg, mode, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!command || !(graceMs >= 0) || !["own", "group"].includes(mode)) {
  process.stderr.write("usage: leash.mjs <grace-ms> <own|group> <command> [args...]\n");
  process.exit(2);
}

const control = new net.Socket({ fd: 3, readable: true, writable: true });
const group = mode === "group";
const passed = Array.from({ length: Number(process.env.PCSHARE_LEASH_PASS_FDS) || 0 }, (_, i) => 4 + i);
const child = spawn(command, args, { stdio: passed.length ? [0, 1, 2, "ignore", ...passed] : "inherit", detached: group });
let killTimer;

function running() {
  return child.exitCode === null && child.signalCode === null;
}

function signal(sig) {
  try {
    if (group) process.kill(-child.pid, sig);
    else if (running()) child.kill(sig);
  } catch {
    /* nothing left to signal */
  }
}

let stopping = false;

function stop() {
  if (stopping || !running()) return;
  stopping = true;
  signal("SIGTERM");
  killTimer = setTimeout(() => signal("SIGKILL"), graceMs);
}

const HANDLED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"];
for (const s of HANDLED.slice(0, 3)) process.on(s, stop);
process.on("SIGUSR1", () => signal("SIGKILL"));

control.on("data", () => {}); // nothing is sent this way: reading is how the EOF is seen
control.on("end", stop);
control.on("error", stop);
child.on("spawn", () => control.write(`${child.pid}\n`));
child.on("error", (err) => {
  process.stderr.write(`leash: cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
/** Re-raising these would have the leash dump core as well: it exits 128+signal instead. */
const CORE_SIGNALS = ["SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGXCPU", "SIGXFSZ", "SIGSYS"];

child.on("exit", (code, fatal) => {
  clearTimeout(killTimer);
  if (stopping) signal("SIGKILL"); // group members that outlived the leader after their SIGTERM
  // The exact status goes to pcshare first (a QEMU killed by SIGSYS broke its seccomp sandbox).
  const finish = () => {
    if (fatal && !CORE_SIGNALS.includes(fatal)) {
      for (const s of HANDLED) process.removeAllListeners(s);
      process.kill(process.pid, fatal);
    } else {
      process.exit(fatal ? 128 + os.constants.signals[fatal] : (code ?? 1));
    }
  };
  if (!control.writable) return finish();
  control.end(`exit ${code ?? ""} ${fatal ?? ""}\n`, finish);
  setTimeout(finish, 1_000); // pcshare gone: the write may never complete
});
