// Test helper: the processes below a pid (from /proc), and whether those seen earlier still run.
import { readdirSync, readFileSync } from "node:fs";
import { processStart } from "../../harness/util/owner.ts";

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  start: number;
  cmdline: string[];
}

function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const rest = stat.slice(close + 2).split(" ");
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").slice(0, -1);
      out.push({ pid: Number(name), comm: stat.slice(stat.indexOf("(") + 1, close), ppid: Number(rest[1]), start: Number(rest[19]), cmdline });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Every live descendant of `root` (not root itself). */
export function descendants(root: number): Proc[] {
  const procs = allProcs();
  const found: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of procs.filter((x) => x.ppid === p)) {
      found.push(c);
      queue.push(c.pid);
    }
  }
  return found;
}

/** Those of `procs` still running (same pid and start time, not a zombie). */
export function stillRunning(procs: Proc[]): Proc[] {
  return procs.filter((p) => {
    if (processStart(p.pid) !== p.start) return false;
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p.pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  });
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
