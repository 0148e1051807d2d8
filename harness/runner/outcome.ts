// The verdict of one case, as a pure function of how it ended: the way its run stopped (finished,
// skipped, an assertion, the guest lost, a timeout, a harness error), the checks it recorded, the
// kernel crash reports seen meanwhile, and whether the state reset after it worked. No VM, no I/O,
// no re-reading of messages: every rule below is one line of the table in classifyCase.
import type { Check, CrashReport, Outcome } from "../report/model.ts";
import { AssertionStop, CaseSkip } from "./context.ts";
import { GuestCrashed, StepTimeout, VmError } from "../vm/errors.ts";
import { FATAL_KINDS } from "../vm/crash.ts";

/** How the case's run() stopped. `reason` is the one-line message of what stopped it. */
export type CaseEnd =
  | { how: "finished" }
  | { how: "skip"; reason: string }
  | { how: "assertion"; reason: string }
  /** The harness saw a fatal kernel report during the case and stopped waiting (GuestCrashed). */
  | { how: "crash-detected"; reason: string }
  /** The guest went away or the agent channel broke (QEMU exited, ...). */
  | { how: "guest-lost"; reason: string }
  | { how: "timeout"; reason: string }
  /** Anything else thrown: a guest command that failed, a bug in the case or harness. */
  | { how: "error"; reason: string };

/** The state reset after the case: not tried (the guest was gone), done, or failed with the guest lost. */
export type ResetEnd = { how: "not-run" } | { how: "done" } | { how: "failed"; reason: string; crashDetected: boolean };

export interface CaseVerdict {
  outcome: Outcome;
  reason?: string;
}

export interface CaseEvidence {
  end: CaseEnd;
  checks: readonly Check[];
  crashes: readonly CrashReport[];
  reset: ResetEnd;
}

/** What an exception thrown out of a case's run() means. */
export function caseEndOf(err: unknown): CaseEnd {
  if (err instanceof CaseSkip) return { how: "skip", reason: err.message };
  if (err instanceof AssertionStop) return { how: "assertion", reason: err.message };
  if (err instanceof StepTimeout) return { how: "timeout", reason: err.message };
  if (err instanceof GuestCrashed) return { how: "crash-detected", reason: err.message };
  if (err instanceof VmError) return { how: "guest-lost", reason: err.message };
  return { how: "error", reason: firstLine(err instanceof Error ? err.message : String(err)) };
}

/**
 * Whether the guest can serve another case after this end and the kernel reports printed during the
 * case (a reset is tried only then). A guest whose kernel reported a fatal crash is replaced without
 * one: undoing the case's mounts on a broken kernel can hang until the reset's timeout.
 */
export function guestUsableAfter(end: CaseEnd, crashes: readonly CrashReport[] = []): boolean {
  if (crashes.some((c) => FATAL_KINDS.has(c.kind))) return false;
  return end.how === "finished" || end.how === "skip" || end.how === "assertion" || end.how === "error";
}

/** Outcome of the run() alone, before checks, crashes and reset are weighed. */
const BY_END: Readonly<Record<CaseEnd["how"], Outcome>> = {
  finished: "pass",
  skip: "skip",
  assertion: "fail",
  "crash-detected": "error",
  "guest-lost": "error",
  timeout: "timeout",
  error: "error",
};

export function classifyCase(e: CaseEvidence): CaseVerdict {
  let v: CaseVerdict = { outcome: BY_END[e.end.how], ...("reason" in e.end && { reason: e.end.reason }) };
  // 1. A reset that lost the guest is a harness-visible error, whatever the case said.
  if (e.reset.how === "failed") v = { outcome: "error", reason: `state reset after the case failed: ${e.reset.reason}` };
  // 2. A finished case with a failed check fails on its first failed check.
  const failed = e.checks.find((c) => !c.ok);
  if (v.outcome === "pass" && failed) v = { outcome: "fail", reason: `${failed.name}: expected ${failed.expected ?? "-"}, seen ${failed.seen ?? "-"}` };
  // 3. A crash or warning during the case is a failure of the kernel, whatever the checks said, also
  //    when it took the guest down (the hang or exit is its consequence, kept in the reason).
  if (e.crashes.length && v.outcome !== "fail") {
    const first = e.crashes[0];
    const causedByCrash = e.end.how === "crash-detected" || (e.reset.how === "failed" && e.reset.crashDetected);
    const consequence = v.outcome === "pass" || v.outcome === "skip" || causedByCrash ? "" : ` (then: ${v.reason})`;
    v = { outcome: "fail", reason: `kernel ${first.kind}: ${first.title}${consequence}` };
  }
  // 4. A case that ran to its end without checking anything proves nothing: it cannot pass.
  if (v.outcome === "pass" && e.checks.length === 0) v = { outcome: "fail", reason: "checked nothing" };
  return v;
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}
