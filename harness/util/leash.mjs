// Keeps one child process from outliving pcshare. Plain Node without dependencies, so it starts in
// a few tens of milliseconds.  Usage: node leash.mjs <grace-ms> <command> [args...]
//
// pcshare starts it with fd 3 one end of a socket pair. The leash writes the child's pid there, then
// reads until EOF, which comes when pcshare exits however it exits (the kernel closes pcshare's end
// even after SIGKILL). On that EOF, or on SIGTERM/SIGINT/SIGHUP, the child gets SIGTERM (QEMU exits,
// make stops its jobs and deletes half-written targets), and SIGKILL if it is still there after
// <grace-ms>. SIGUSR1 means SIGKILL at once. The child keeps the leash's stdio and process group.
// A parent-death signal (prctl PR_SET_PDEATHSIG) on the child would not do: the kernel clears it when
// QEMU changes user (-runas).
// Exit status: the child's exit code, or the child's fatal signal re-raised.
import { spawn } from "node:child_process";
import net from "node:net";

const [graceArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!command || !(graceMs >= 0)) {
  process.stderr.write("usage: leash.mjs <grace-ms> <command> [args...]\n");
  process.exit(2);
}

const control = new net.Socket({ fd: 3, readable: true, writable: true });
const child = spawn(command, args, { stdio: "inherit" });
let killTimer;

function running() {
  return child.exitCode === null && child.signalCode === null;
}

function stop() {
  if (!running() || killTimer) return;
  child.kill("SIGTERM");
  killTimer = setTimeout(() => running() && child.kill("SIGKILL"), graceMs);
}

const HANDLED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"];
for (const s of HANDLED.slice(0, 3)) process.on(s, stop);
process.on("SIGUSR1", () => running() && child.kill("SIGKILL"));

control.on("data", () => {}); // nothing is sent this way: reading is how the EOF is seen
control.on("end", stop);
control.on("error", stop);
child.on("spawn", () => control.write(`${child.pid}\n`));
child.on("error", (err) => {
  process.stderr.write(`leash: cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  clearTimeout(killTimer);
  control.destroy();
  if (signal) {
    for (const s of HANDLED) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
