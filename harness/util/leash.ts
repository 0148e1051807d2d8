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
  /** Open file descriptors the child gets as its fds 4, 5, ... (fd 3 is the leash's own). */
  passFds?: number[];
}

export interface Leashed {
  /** The leash process; it exits with the child's status (a fatal signal is re-raised). */
  proc: ResultPromise;
  /** Pid of the child itself (QEMU, make), once it has been spawned. */
  childPid: Promise<number>;
  /** How the child itself ended (as the leash reported it; else as the leash ended). */
  childExit: Promise<{ code: number | null; signal: string | null }>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): void;
  /** SIGKILL at once. */
  kill(): void;
}

export function spawnLeashed(command: string, args: string[], opts: LeashOptions = {}): Leashed {
  const { stdin = "pipe", stdout = "pipe", stderr = "pipe", graceMs = 5_000, group = false, passFds = [], ...rest } = opts;
  const proc = execa(process.execPath, [LEASH, String(graceMs), group ? "group" : "own", command, ...args], {
    ...rest,
    ...(passFds.length ? { env: { ...rest.env, PCSHARE_LEASH_PASS_FDS: String(passFds.length) } } : {}),
    stdio: [stdin, stdout, stderr, "pipe", ...passFds],
  } as Options) as unknown as ResultPromise;
  const control = proc.stdio[3] as NodeJS.ReadWriteStream;
  const lines: string[] = [];
  let pidSeen: (pid: number) => void = () => {};
  const childPid = new Promise<number>((resolve, reject) => {
    pidSeen = resolve;
    proc.finally(() => reject(new Error(`${command} exited before its pid was known`))).catch(() => {});
  });
  childPid.catch(() => {});
  let partial = "";
  control.setEncoding("utf8");
  control.on("data", (c: string) => {
    const parts = (partial + c).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      if (/^\d+$/.test(line)) pidSeen(Number(line));
    }
  });
  control.on("error", () => {});
  const childExit = proc.then(
    (r) => fromLines(lines) ?? { code: r.exitCode ?? null, signal: r.signal ?? null },
    (e: { exitCode?: number; signal?: string }) => fromLines(lines) ?? { code: e.exitCode ?? null, signal: e.signal ?? null },
  );
  // The leash handles SIGTERM and SIGUSR1 once it has started the child (it reports the pid then);
  // before that, Node's default for SIGUSR1 is to start its inspector, and the child would be
  // started anyway. A signal sent that early waits for the pid.
  let started = false;
  childPid.then(() => (started = true), () => {});
  const signalNow = (s: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(s);
  };
  const signal = (s: NodeJS.Signals) => {
    if (started) signalNow(s);
    else childPid.then(() => signalNow(s), () => {});
  };
  return { proc, childPid, childExit, stop: () => signal("SIGTERM"), kill: () => signal("SIGUSR1") };
}

function fromLines(lines: string[]): { code: number | null; signal: string | null } | undefined {
  const m = lines.map((l) => /^exit (\d*) (\w*)$/.exec(l)).find(Boolean);
  return m ? { code: m[1] ? Number(m[1]) : null, signal: m[2] || null } : undefined;
}
