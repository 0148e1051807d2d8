// Steps the isolation (I) and adversarial (A) cases share: probe whether two files with their own expected
// contents share one page cache, and read a file recording bytes or the errno instead of stopping the case.
import type { CaseContext } from "../harness/runner/context.ts";
import { AgentError } from "../harness/guest/agent-client.ts";
import { probeSharing, type SharingProbe, type SharingVerdict } from "../harness/measure/sharing.ts";

export interface FileRef {
  /** guest path */
  path: string;
  /** the sha256 this file must read as (its own source content) */
  sha256: string;
}

/**
 * Probe sharing between `a` and `b` (read A first, then B; frames, residency, Cached), record the
 * figures under `label`, check each file reads its own bytes and the verdict is `expected`.
 */
export async function probePair(t: CaseContext, a: FileRef, b: FileRef, expected: SharingVerdict, label: string): Promise<SharingProbe> {
  const probe = await probeSharing(t.agent, a.path, b.path, label);
  for (const m of probe.measurements) t.measure(m.name, m.value, m.unit, m);
  t.expectEqual(`${label}: ${a.path} reads its own bytes`, probe.sha256A, a.sha256);
  t.expectEqual(`${label}: ${b.path} reads its own bytes`, probe.sha256B, b.sha256);
  t.expect(`${label}: sharing verdict is ${expected}`, probe.verdict === expected, { expected, seen: probe.summary });
  return probe;
}

export type ReadOutcome = { kind: "bytes"; seen: string } | { kind: "errno"; seen: string };

/** read(2) the whole file: its sha256, or the errno name when open/read fails (other agent errors propagate). */
export async function readOutcome(t: CaseContext, path: string): Promise<ReadOutcome> {
  try {
    return { kind: "bytes", seen: (await t.agent.readHash(path)).sha256 };
  } catch (err) {
    if (err instanceof AgentError && err.code === "remote") return { kind: "errno", seen: err.errname ?? `errno ${err.errno}` };
    throw err;
  }
}

/** Number of kernel log lines containing `text` (reads the ring buffer with dmesg, leaving kmsg to the runner). */
export async function dmesgCount(t: CaseContext, text: string): Promise<number> {
  const r = await t.sh(`dmesg | grep -c -F -- ${JSON.stringify(text)}`, { allowFail: true });
  return Number(r.stdout.trim()) || 0;
}
