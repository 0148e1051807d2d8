// The lifetime races (L1-L3, V2) and their controls: one remount_race in the guest agent (a tight
// unmount/mount/lookup loop under reader threads, see harness/guest/agent/ops_race.c), recorded as
// measurements and checked the same way for the racing cases and for their controls.
import type { CaseContext } from "../harness/runner/context.ts";
import type { RemountRaceArgs, RemountRaceReply } from "../harness/guest/protocol.ts";

/** Guest time the race may take; the case stops earlier at the first kernel report or wrong byte. */
export const RACE_BUDGET_MS = 20_000;
/**
 * A control's loop: CONTROL_CYCLES cycles, at most CONTROL_BUDGET_MS of guest time. On 7.2.13 the
 * racing cases hit within 23 cycles (most within 10; docs/races.md), so a control that passes has
 * run the same loop at least twice as many cycles as the race needed, however fast the host is.
 */
export const CONTROL_CYCLES = 50;
export const CONTROL_BUDGET_MS = 30_000;
export const CONTROL_LOOP = { max_cycles: CONTROL_CYCLES, budget_ms: CONTROL_BUDGET_MS };
/** Reader threads: with 2 vCPUs, enough to keep a readahead on the shared inode in flight most of the time. */
export const RACE_READERS = 4;

/** Run the race, record its figures and check what a correct kernel does: right bytes, no report. */
export async function raceAndCheck(t: CaseContext, args: Omit<RemountRaceArgs, "budget_ms"> & { budget_ms?: number }): Promise<RemountRaceReply> {
  const r = await t.agent.remountRace({ readers: RACE_READERS, budget_ms: RACE_BUDGET_MS, ...args });
  if (r.cycles === 0 && r.report === null && r.wrong === 0 && r.error === null) {
    // Not a verdict on the kernel: the guest got too little CPU to finish one mount in the budget.
    throw new Error(`remount_race completed no cycle in ${r.elapsed_ms} ms of guest time (host overloaded?)`);
  }
  t.measure("race_cycles", r.cycles, "count", { kind: "noisy" });
  t.measure("race_reads", r.reads, "count", { kind: "noisy" });
  t.measure("race_ms", r.elapsed_ms, "ms");
  t.measure("race_max_cycle_ms", r.max_cycle_ms, "ms");
  t.expectEqual("kernel report during the race (first line)", r.report, null);
  t.expectEqual("reads with bytes other than the source's (count; first)", [r.wrong, r.wrong_at], [0, null]);
  t.expectEqual("mount, unmount or lookup failures in the loop", r.error, null);
  t.expect("the loop completed cycles", r.cycles > 0, { expected: "> 0", seen: r.cycles });
  t.expect("the reader threads completed reads", r.reads > 0, { expected: "> 0", seen: r.reads });
  t.expectEqual("the race's worker process ended by itself", r.worker, "exited");
  await leftMounted(t, args.mounts.map((m) => m.target), args.mounted);
  return r;
}

/** After a race cut short (a report, a killed worker) a churned mount may be in the other state: put it back. */
async function leftMounted(t: CaseContext, targets: string[], mounted: boolean): Promise<void> {
  if (mounted) return; // churned mounts that should stay mounted are the case's to unmount
  const table = (await t.agent.readFile("/proc/mounts")).data.toString();
  for (const dir of targets) if (table.includes(` ${dir} `)) await t.agent.umount(dir, ["detach"]).catch(() => {});
}
