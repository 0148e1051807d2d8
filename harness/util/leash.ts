// Spawning a child that cannot outlive pcshare: it runs under leash.mjs, which takes it down when
// pcshare exits (even by SIGKILL) or asks it to. Used for QEMU and for kernel builds (make).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type Options, type ResultPromise } from "execa";

const LEASH = path.join(path.dirname(fileURLToPath(import.meta.url)), "leash.mjs");

type Stdio = "pipe" | "ignore" | "inherit";

export interface LeashOptions extends Omit<Options, "stdin" | "stdout" | "stderr" | "stdio" | "buffer"> {
  stdin?: Stdio;
  stdout?: Stdio;
  stderr?: Stdio;
  buffer?: boolean;
  /** Time between SIGTERM and SIGKILL when the child is stopped (default 5 s). */
  graceMs?: number;
  /** The child leads its own process group, and stopping signals the whole group (make and its jobs). */
  group?: boolean;
}

export interface Leashed {
  /** The leash process; it exits with the child's status (a fatal signal is re-raised). */
  proc: ResultPromise;
  /** Pid of the child itself (QEMU, make), once it has been spawned. */
  childPid: Promise<number>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): void;
  /** SIGKILL at once. */
  kill(): void;
}

export function spawnLeashed(command: string, args: string[], opts: LeashOptions = {}): Leashed {
  const { stdin = "pipe", stdout = "pipe", stderr = "pipe", graceMs = 5_000, group = false, ...rest } = opts;
  const proc = execa(process.execPath, [LEASH, String(graceMs), group ? "group" : "own", command, ...args], {
    ...rest,
    stdio: [stdin, stdout, stderr, "pipe"],
  } as Options) as unknown as ResultPromise;
  const control = proc.stdio[3] as NodeJS.ReadWriteStream;
  const childPid = new Promise<number>((resolve, reject) => {
    let text = "";
    control.setEncoding("utf8");
    control.on("data", (c: string) => {
      text += c;
      if (text.includes("\n")) resolve(Number(text.split("\n")[0]));
    });
    control.on("error", () => {});
    proc.finally(() => reject(new Error(`${command} exited before its pid was known`))).catch(() => {});
  });
  childPid.catch(() => {});
  const signal = (s: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(s);
  };
  return { proc, childPid, stop: () => signal("SIGTERM"), kill: () => signal("SIGUSR1") };
}
