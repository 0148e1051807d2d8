// Who owns a lock or a temporary directory, and is that owner still running? An owner is a process
// named by pid, start time and host boot: a pid alone is not enough, since pids are reused (in a
// container the harness often gets the same small pid on every run) and a directory can outlive a reboot.
import { readFileSync } from "node:fs";

export interface Owner {
  pid: number;
  /** Start time of the process, in clock ticks since boot (/proc/<pid>/stat field 22). */
  start: number;
  /** First 8 characters of /proc/sys/kernel/random/boot_id. */
  boot: string;
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replace(/-/g, "").slice(0, 8);
  } catch {
    return "noboot00";
  }
}

/** Start time of a running process, or undefined when there is no such process. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces and parentheses); field 22 is the 20th of them.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
}

let self: Owner | undefined;

export function selfOwner(): Owner {
  self ??= { pid: process.pid, start: processStart(process.pid) ?? 0, boot: bootId() };
  return self;
}

/** True while the owner's process runs: same boot, and its pid names a process started at the same time. */
export function ownerAlive(o: Owner): boolean {
  return o.boot === bootId() && processStart(o.pid) === o.start;
}

/** A compact form for file names: <pid>.<start>.<boot>. */
export function ownerTag(o: Owner = selfOwner()): string {
  return `${o.pid}.${o.start}.${o.boot}`;
}

export function parseOwnerTag(s: string): Owner | undefined {
  const m = /^(\d+)\.(\d+)\.([0-9a-z]{8})$/.exec(s);
  return m ? { pid: Number(m[1]), start: Number(m[2]), boot: m[3] } : undefined;
}
