// Before each case: is the guest as clean as a fresh one? Compared with what the guest had when it
// was taken into use (its base mounts, processes and cgroups, its file pages after drop_caches), it
// must have no extra mounts, no processes or cgroups left by earlier cases, no dying memory cgroups
// (cgroup.stat nr_dying_descendants at the root) and its page cache dropped. What is left is undone
// (kill, unmount, rmdir, drop_caches) and measured again until clean or the bound runs out; the
// caller then replaces the guest. Every measurement is returned as a check, for the case's result.
import type { AgentClient } from "../guest/agent-client.ts";
import type { Check } from "../report/model.ts";

/** One look at the guest's state. */
export interface GuestState {
  /** /proc/mounts lines "source target fstype". */
  mounts: string[];
  /** User processes other than the measuring shell: pid, parent, state (R, S, Z...), name. */
  procs: { pid: number; ppid: number; state: string; comm: string }[];
  /** cgroup directories under /sys/fs/cgroup, parents first. */
  cgroups: string[];
  /** nr_dying_descendants of the root cgroup (-1 when the kernel has no cgroup v2 root). */
  dyingCgroups: number;
  /** The agent's pid (parent of the measuring shell): helpers it spawned are its children. */
  agentPid: number;
}

export interface Baseline {
  state: GuestState;
  /** Cached - Shmem right after drop_caches on the fresh guest, KiB. */
  filePagesKiB: number;
}

/** Limit for each guest command of the check (generous: a starved TCG guest on a busy host is slow). */
const GUEST_COMMAND_MS = 60_000;

/** File pages allowed above the fresh guest's after drop_caches (the agent, busybox, kernel log). */
export const FILE_PAGES_SLACK_KIB = 4096;

// Three programs in all (sh, find, awk): each fork costs ~0.1-0.2 s under TCG. awk reads the mounts,
// the root cgroup.stat and every process's stat; kernel threads (kthreadd, pid 2, and its children),
// init and the measuring shell's own pipeline are left out.
export const MEASURE_SCRIPT = [
  "find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sed 's/^/cgroup /'",
  "exec awk -v self=$$ -v agent=$PPID '",
  '  BEGIN { print "agent", agent }',
  '  FILENAME == "/proc/mounts" { print "mount", $1, $2, $3; next }',
  '  FILENAME ~ /cgroup.stat$/ { if ($1 == "nr_dying_descendants") print "dying", $2; next }',
  "  {",
  '    pid = FILENAME; sub("^/proc/", "", pid); sub("/stat$", "", pid)',
  '    comm = $0; sub("^[^(]*[(]", "", comm); sub("[)][^)]*$", "", comm)',
  '    rest = $0; sub("^.*[)] ", "", rest); split(rest, f, " ")',
  '    if (pid == self || f[2] == self || f[2] == 2 || pid == 2 || pid == 1) next',
  '    print "proc", pid, f[2], f[1], comm',
  "  }",
  "' /proc/mounts /sys/fs/cgroup/cgroup.stat /proc/[0-9]*/stat 2>/dev/null",
].join("\n");

export async function measureState(agent: AgentClient): Promise<GuestState> {
  const r = await agent.exec(["sh", "-c", MEASURE_SCRIPT], { timeoutMs: GUEST_COMMAND_MS });
  if (r.timedOut || (r.exitCode !== 0 && !r.stdout)) {
    const how = r.timedOut ? `timed out after ${GUEST_COMMAND_MS / 1000} s` : r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
    throw new Error(`measuring the guest state failed (${how})${r.stderr.trim() ? `: ${r.stderr.trim()}` : ""}`);
  }
  const s: GuestState = { mounts: [], procs: [], cgroups: [], dyingCgroups: -1, agentPid: 0 };
  for (const line of r.stdout.split("\n")) {
    const [kind, ...f] = line.split(" ");
    if (kind === "agent") s.agentPid = Number(f[0]);
    else if (kind === "mount") s.mounts.push(f.join(" "));
    else if (kind === "dying") s.dyingCgroups = f[0] === "" ? -1 : Number(f[0]);
    else if (kind === "cgroup") s.cgroups.push(f.join(" "));
    else if (kind === "proc") s.procs.push({ pid: Number(f[0]), ppid: Number(f[1]), state: f[2], comm: f.slice(3).join(" ") });
  }
  // The agent's own process is part of the base; a zombie holds nothing a case could see.
  s.procs = s.procs.filter((p) => p.pid !== s.agentPid && p.state !== "Z");
  return s;
}

async function dropCaches(agent: AgentClient): Promise<number> {
  await agent.exec(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"], { timeoutMs: GUEST_COMMAND_MS });
  const m = await agent.meminfo();
  return (m.Cached ?? 0) - (m.Shmem ?? 0);
}

/** The state of a guest just taken into use: what "clean" means for it from now on. */
export async function captureBaseline(agent: AgentClient): Promise<Baseline> {
  const filePagesKiB = await dropCaches(agent);
  return { state: await measureState(agent), filePagesKiB };
}

/** Items of `now` beyond those of `base` (as multisets: a target mounted twice counts twice). */
function beyond(base: readonly string[], now: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const b of base) left.set(b, (left.get(b) ?? 0) + 1);
  return now.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}

interface Dirt {
  mounts: string[];
  procs: GuestState["procs"];
  cgroups: string[];
  dying: number;
  filePagesKiB: number;
}

function dirtOf(base: Baseline, s: GuestState, filePagesKiB: number): Dirt {
  const basePids = new Set(base.state.procs.map((p) => p.pid));
  return {
    mounts: beyond(base.state.mounts, s.mounts),
    procs: s.procs.filter((p) => !basePids.has(p.pid)),
    cgroups: beyond(base.state.cgroups, s.cgroups),
    dying: s.dyingCgroups,
    filePagesKiB,
  };
}

function checksOf(base: Baseline, d: Dirt): Check[] {
  const list = (xs: string[]) => (xs.length ? xs.join("; ") : "none");
  return [
    { name: "mounts beyond the guest's base set", ok: d.mounts.length === 0, expected: "none", seen: list(d.mounts) },
    { name: "processes left by earlier cases", ok: d.procs.length === 0, expected: "none", seen: list(d.procs.map((p) => `${p.pid} ${p.comm} (${p.state})`)) },
    { name: "cgroups left by earlier cases", ok: d.cgroups.length === 0, expected: "none", seen: list(d.cgroups) },
    { name: "dying memory cgroups (root cgroup.stat nr_dying_descendants)", ok: d.dying <= 0, expected: "0", seen: String(d.dying) },
    {
      name: "file pages after drop_caches (Cached - Shmem)",
      ok: d.filePagesKiB <= base.filePagesKiB + FILE_PAGES_SLACK_KIB,
      expected: `<= ${base.filePagesKiB + FILE_PAGES_SLACK_KIB} KiB (fresh guest ${base.filePagesKiB} KiB + ${FILE_PAGES_SLACK_KIB} KiB)`,
      seen: `${d.filePagesKiB} KiB`,
    },
  ];
}

/** Undo what is left: kill stray processes (reaping the agent's own helpers), unmount, remove cgroups. */
async function undo(agent: AgentClient, agentPid: number, d: Dirt): Promise<void> {
  for (const p of d.procs) {
    if (p.ppid === agentPid) await agent.procKill(p.pid).catch(() => {});
    else await agent.exec(["kill", "-9", String(p.pid)], { timeoutMs: 5_000 }).catch(() => {});
  }
  for (const m of [...d.mounts].reverse()) {
    const target = m.split(" ")[1];
    await agent.umount(target).catch(() => agent.umount(target, ["detach"]).catch(() => {}));
  }
  for (const cg of [...d.cgroups].reverse()) await agent.exec(["rmdir", cg], { timeoutMs: 5_000 }).catch(() => {});
}

export interface CleanCheck {
  clean: boolean;
  /** The last look at the state. */
  checks: Check[];
  /** What the first look found left over ("name: seen"), which was then undone. */
  leftovers: string[];
  /** Rounds of undo + measure it took (1: clean at the first look). */
  rounds: number;
  ms: number;
}

/**
 * Make the guest clean, within `boundMs`: measure, undo what is left, drop caches, and measure again
 * (dying cgroups go away only as their pages are freed) until nothing is left or time is up.
 */
export async function makeClean(agent: AgentClient, base: Baseline, boundMs: number): Promise<CleanCheck> {
  const started = Date.now();
  let leftovers: string[] | undefined;
  for (let round = 1; ; round++) {
    const filePagesKiB = await dropCaches(agent);
    const state = await measureState(agent);
    const dirt = dirtOf(base, state, filePagesKiB);
    const checks = checksOf(base, dirt);
    leftovers ??= checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.seen}`);
    const clean = checks.every((c) => c.ok);
    if (clean || Date.now() - started >= boundMs) return { clean, checks, leftovers, rounds: round, ms: Date.now() - started };
    await undo(agent, state.agentPid, dirt);
    await new Promise((r) => setTimeout(r, Math.min(250 * round, 1_000)));
  }
}
