// The runner survives what the guest does: a case that panics the kernel fails with the panic's
// excerpt, a case that hangs times out, and the cases after them run on fresh guests and pass.
// The crashing and hanging cases are defined here (test-only); they run on the real default kernel.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defineCase } from "../../harness/runner/case.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import { F1b } from "../../cases/functional.ts";
import { liveProcesses } from "../../harness/vm/reaper.ts";

const panics = defineCase({
  id: "T1",
  name: "test-only-panic",
  groups: ["T"],
  expect: "test-only: the kernel panics (sysrq c)",
  async run(t) {
    await t.sh("echo c > /proc/sysrq-trigger");
  },
});

const hangs = defineCase({
  id: "T2",
  name: "test-only-hang",
  groups: ["T"],
  expect: "test-only: the step outlives the case timeout",
  timeoutMs: 3_000,
  async run(t) {
    await t.sh("sleep 20", { timeoutMs: 25_000 });
  },
});

describe("runner recovery", () => {
  it("reports the panic as a failure with its excerpt, the hang as a timeout, and goes on", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-recovery-"));
    try {
      const kernel = await resolveKernel();
      const run = await runSuite({ kernel, cases: [panics, F1b, hangs, F1b], outDir: out, specs: DEFAULT_SPECS });
      const [p, after1, h, after2] = run.cases;
      expect(p.outcome).toBe("fail");
      expect(p.reason).toContain("kernel panic: Kernel panic - not syncing: sysrq triggered crash");
      expect(p.crashes[0].excerpt).toContain("sysrq");
      expect(p.consoleExcerpt).toContain("Kernel panic");
      expect(after1.outcome, after1.reason).toBe("pass");
      expect(h.outcome).toBe("timeout");
      expect(h.reason).toContain("did not finish within 3 s");
      expect(after2.outcome, after2.reason).toBe("pass");
      // Three guests: the first, and one after each of the panic and the hang.
      expect(run.boots).toHaveLength(3);
      expect(liveProcesses()).toBe(0); // the standby guest booted last is gone too
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 400_000);

  it("switches to the standby guest after a crash instead of booting then", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-recovery-"));
    try {
      const kernel = await resolveKernel();
      const run = await runSuite({ kernel, cases: [F1b, panics, F1b], outDir: out, specs: DEFAULT_SPECS, spareGuest: true });
      expect(run.cases.map((c) => c.outcome)).toEqual(["pass", "fail", "pass"]);
      const [first, second] = run.boots!;
      expect(first.waitedMs).toBeGreaterThanOrEqual(first.hostWallMs); // nothing booted ahead of the first
      expect(second.waitedMs).toBeLessThan(second.hostWallMs); // it was already booting when the panic came
      expect(liveProcesses()).toBe(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 400_000);
});
