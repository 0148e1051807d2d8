// The verdict table, without a VM: each row is how a case ended, what it checked, what the kernel
// printed and how the reset went, and the outcome and reason the runner must give.
import { describe, expect, it } from "vitest";
import { classifyCase, caseEndOf, guestUsableAfter, type CaseEvidence } from "../../harness/runner/outcome.ts";
import { AssertionStop, CaseSkip } from "../../harness/runner/context.ts";
import { GuestCrashed, GuestExited, StepTimeout, QemuStartError } from "../../harness/vm/errors.ts";
import type { Check, CrashReport } from "../../harness/report/model.ts";

const ok: Check = { name: "frames equal", ok: true, expected: "2048", seen: "2048" };
const bad: Check = { name: "content", ok: false, expected: "sha256:aa", seen: "sha256:bb" };
const bad2: Check = { name: "later", ok: false, expected: "1", seen: "2" };
const oops: CrashReport = { kind: "oops", title: "Oops: general protection fault", excerpt: "..." };
const warn: CrashReport = { kind: "warning", title: "WARNING: at fs/erofs/ishare.c:42", excerpt: "..." };
const done = { how: "done" } as const;
const notRun = { how: "not-run" } as const;

const rows: [string, CaseEvidence, string, string | undefined][] = [
  ["finished with passing checks", { end: { how: "finished" }, checks: [ok], crashes: [], reset: done }, "pass", undefined],
  ["finished with a failed expect: the first failed check", { end: { how: "finished" }, checks: [ok, bad, bad2], crashes: [], reset: done }, "fail", "content: expected sha256:aa, seen sha256:bb"],
  ["finished, checked nothing", { end: { how: "finished" }, checks: [], crashes: [], reset: done }, "fail", "checked nothing"],
  ["skipped with no checks", { end: { how: "skip", reason: "no memcg" }, checks: [], crashes: [], reset: done }, "skip", "no memcg"],
  ["skipped after a failed precondition check stays skip", { end: { how: "skip", reason: "no memcg" }, checks: [bad], crashes: [], reset: done }, "skip", "no memcg"],
  ["assertion", { end: { how: "assertion", reason: "x: expected 1, seen 2" }, checks: [bad], crashes: [], reset: done }, "fail", "x: expected 1, seen 2"],
  ["assertion with a crash keeps the assertion", { end: { how: "assertion", reason: "x: expected 1, seen 2" }, checks: [bad], crashes: [warn], reset: done }, "fail", "x: expected 1, seen 2"],
  ["harness error", { end: { how: "error", reason: "guest command failed (exit 1): ls" }, checks: [ok], crashes: [], reset: done }, "error", "guest command failed (exit 1): ls"],
  ["harness error with no checks is not 'checked nothing'", { end: { how: "error", reason: "boom" }, checks: [], crashes: [], reset: done }, "error", "boom"],
  ["timeout", { end: { how: "timeout", reason: 'step "F1" did not finish within 60 s' }, checks: [ok], crashes: [], reset: notRun }, "timeout", 'step "F1" did not finish within 60 s'],
  ["guest lost", { end: { how: "guest-lost", reason: "guest exited (exit code 0)" }, checks: [], crashes: [], reset: notRun }, "error", "guest exited (exit code 0)"],
  ["passing checks but a kernel warning", { end: { how: "finished" }, checks: [ok], crashes: [warn, oops], reset: done }, "fail", "kernel warning: WARNING: at fs/erofs/ishare.c:42"],
  ["failed check and a crash: the check leads (the crash stays in crashes)", { end: { how: "finished" }, checks: [bad], crashes: [oops], reset: done }, "fail", "content: expected sha256:aa, seen sha256:bb"],
  ["crash with no checks: the crash, not 'checked nothing'", { end: { how: "finished" }, checks: [], crashes: [oops], reset: done }, "fail", "kernel oops: Oops: general protection fault"],
  ["skip with a crash fails", { end: { how: "skip", reason: "n/a" }, checks: [], crashes: [oops], reset: done }, "fail", "kernel oops: Oops: general protection fault"],
  ["crash detected by the harness: no consequence", { end: { how: "crash-detected", reason: 'kernel oops during step "F1"' }, checks: [], crashes: [oops], reset: notRun }, "fail", "kernel oops: Oops: general protection fault"],
  ["timeout caused by a crash keeps the consequence", { end: { how: "timeout", reason: "did not finish within 3 s" }, checks: [], crashes: [oops], reset: notRun }, "fail", "kernel oops: Oops: general protection fault (then: did not finish within 3 s)"],
  ["guest lost after a crash keeps the consequence", { end: { how: "guest-lost", reason: "guest exited (exit code 0)" }, checks: [], crashes: [oops], reset: notRun }, "fail", "kernel oops: Oops: general protection fault (then: guest exited (exit code 0))"],
  ["reset lost the guest", { end: { how: "finished" }, checks: [ok], crashes: [], reset: { how: "failed", reason: "guest exited", crashDetected: false } }, "error", "state reset after the case failed: guest exited"],
  ["reset lost the guest after a failing case", { end: { how: "assertion", reason: "x" }, checks: [bad], crashes: [], reset: { how: "failed", reason: "timed out", crashDetected: false } }, "error", "state reset after the case failed: timed out"],
  ["reset crashed the kernel", { end: { how: "finished" }, checks: [ok], crashes: [oops], reset: { how: "failed", reason: "kernel oops during step", crashDetected: true } }, "fail", "kernel oops: Oops: general protection fault"],
];

describe("classifyCase", () => {
  it.each(rows)("%s", (_, evidence, outcome, reason) => {
    expect(classifyCase(evidence)).toEqual({ outcome, ...(reason !== undefined && { reason }) });
  });
});

describe("caseEndOf", () => {
  it.each([
    [new CaseSkip("no memcg"), "skip"],
    [new AssertionStop("x"), "assertion"],
    [new StepTimeout("slow", ""), "timeout"],
    [new GuestCrashed("kernel oops", ""), "crash-detected"],
    [new GuestExited("gone", ""), "guest-lost"],
    [new QemuStartError("no qemu", ""), "guest-lost"],
    [new Error("guest command failed\nstderr here"), "error"],
  ] as const)("%s -> %s", (err, how) => {
    expect(caseEndOf(err).how).toBe(how);
  });

  it("keeps only the first line of a harness error", () => {
    expect(caseEndOf(new Error("guest command failed (exit 1): ls\nls: no such file"))).toEqual({ how: "error", reason: "guest command failed (exit 1): ls" });
  });

  it("resets the guest only when it still answers", () => {
    expect(["finished", "skip", "assertion", "error", "timeout", "crash-detected", "guest-lost"].filter((how) => guestUsableAfter({ how } as never))).toEqual([
      "finished",
      "skip",
      "assertion",
      "error",
    ]);
  });

  it("does not reset a guest whose kernel reported a fatal crash during the case (it is replaced), only a warning", () => {
    const busy: CrashReport = { kind: "busy_inodes", title: "VFS: Busy inodes after unmount of 0:30 (erofs)", excerpt: "..." };
    expect(guestUsableAfter({ how: "finished" }, [busy])).toBe(false);
    expect(guestUsableAfter({ how: "assertion", reason: "x" }, [warn, oops])).toBe(false);
    expect(guestUsableAfter({ how: "finished" }, [warn])).toBe(true);
    expect(guestUsableAfter({ how: "finished" }, [])).toBe(true);
  });
});
