// Crash classification over a kernel console log: finds panics, oopses, BUGs, WARNINGs, KASAN/KFENCE
// reports, lockdep splats, RCU stalls, hung tasks, soft lockups, slab leaks, list corruption and busy
// inodes after unmount, each with its title and the excerpt that shows it. A table of patterns, no scattered ifs.
import type { CrashReport } from "../report/model.ts";

interface Pattern {
  kind: string;
  re: RegExp;
}

// Order matters: the first pattern that matches a line names it (specific before generic).
const PATTERNS: Pattern[] = [
  { kind: "kasan", re: /BUG: KASAN: .*/ },
  { kind: "kfence", re: /BUG: KFENCE: .*/ },
  { kind: "soft_lockup", re: /(?:watchdog: )?BUG: soft lockup - CPU#\d+ stuck for .*/ },
  { kind: "hard_lockup", re: /(?:NMI )?[Ww]atchdog detected hard LOCKUP.*/ },
  { kind: "hung_task", re: /INFO: task \S+ blocked for more than \d+ seconds\./ },
  { kind: "rcu_stall", re: /rcu: INFO: rcu_\w+ (?:self-)?detected (?:stalls?|expedited stalls?).*/ },
  {
    kind: "lockdep",
    re: /WARNING: (?:possible circular locking dependency detected|possible recursive locking detected|inconsistent lock state|suspicious RCU usage|bad unlock balance detected!?|held lock freed!?|lock held when returning to user space!?|possible irq lock inversion dependency detected|.*-safe -> .*-unsafe lock order detected|Nested lock was not taken).*/,
  },
  { kind: "busy_inodes", re: /(?:VFS: )?Busy inodes after unmount of .*/ },
  // DEBUG_LIST's report comes one line before the WARNING (or BUG) it raises: it says what was corrupt.
  { kind: "list_corruption", re: /list_(?:add|del) corruption\..*/ },
  { kind: "slab_leak", re: /(?:kmem_cache_destroy .*: Slab cache still has objects.*|BUG [\w-]+ \(.*\): Objects remaining.*)/ },
  { kind: "bug", re: /kernel BUG at .*/ },
  { kind: "oops", re: /(?:Oops: .*|BUG: unable to handle (?:page fault|kernel).*|general protection fault.*)/ },
  { kind: "warning", re: /WARNING: (?:CPU: \d+ PID: \d+ at .*|.* at .*, CPU#\d+: .*)/ },
  { kind: "bug", re: /BUG: .*/ },
  { kind: "panic", re: /Kernel panic - not syncing: .*/ },
];

/** Lines that end a report's excerpt (the kernel prints these after the trace). */
const END = /---\[ end (?:trace|Kernel panic)|^={20,}$/;
const MAX_EXCERPT_LINES = 60;
const TIMESTAMP = /^\s*\[\s*\d+\.\d+\]\s?/;
const CALLER_ID = /^\[\s*[TC]\d+\]\s?/;

export function stripTimestamp(line: string): string {
  return line.replace(TIMESTAMP, "").replace(CALLER_ID, "");
}

function classifyLine(line: string): { kind: string; title: string } | undefined {
  const text = stripTimestamp(line);
  for (const p of PATTERNS) {
    const m = text.match(p.re);
    if (m) return { kind: p.kind, title: m[0].trim() };
  }
  return undefined;
}

/**
 * Kinds reported even when their line falls inside another report's excerpt: a panic after an oops,
 * and busy inodes after unmount printed by one CPU while another CPU's oops is being printed (the
 * console interleaves them; the busy inodes are a finding of their own, not part of that oops).
 */
const ALWAYS_OWN_REPORT = new Set(["panic", "busy_inodes"]);

/**
 * Every crash-like report in `log`, in order. Lines inside an excerpt already claimed by a report
 * do not start a new one, except the kinds in ALWAYS_OWN_REPORT.
 */
export function classifyConsole(log: string): CrashReport[] {
  const lines = log.replace(/\r/g, "").split("\n");
  const reports: CrashReport[] = [];
  let claimedUntil = -1;
  for (let i = 0; i < lines.length; i++) {
    const hit = classifyLine(lines[i]);
    if (!hit) continue;
    if (i <= claimedUntil && !ALWAYS_OWN_REPORT.has(hit.kind)) continue;
    let end = i + 1;
    while (end < lines.length && end - i < MAX_EXCERPT_LINES && !END.test(stripTimestamp(lines[end]))) end++;
    if (end < lines.length && END.test(stripTimestamp(lines[end]))) end++;
    const start = Math.max(0, i - 2);
    reports.push({ kind: hit.kind, title: hit.title, excerpt: lines.slice(start, end).join("\n") });
    claimedUntil = end - 1;
  }
  return reports;
}

/**
 * Kinds that mean the kernel is no longer trustworthy for further cases in the same boot. Busy inodes
 * after unmount: the superblock is gone while inodes still point at it (use-after-free follows), and
 * with BUG_ON_DATA_CORRUPTION (Debian) it is a BUG whose oops lands in the same excerpt.
 */
export const FATAL_KINDS = new Set(["panic", "oops", "bug", "kasan", "kfence", "soft_lockup", "hard_lockup", "rcu_stall", "busy_inodes", "list_corruption"]);
