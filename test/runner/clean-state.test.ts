// No verdict depends on the case before it: a test-only case leaves a mount, processes (a shell's
// background child and an agent helper) and a memory cgroup behind, and the next case, on the real
// default kernel, finds none of them. With time to undo them, the same guest is reused and the
// leftovers are recorded; with no time (bound 0), the next case runs on a fresh guest.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineCase } from "../../harness/runner/case.ts";
import { runSuite } from "../../harness/runner/run.ts";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import type { Kernel } from "../../harness/kernel/kernel.ts";
import { DEFAULT_SPECS } from "../../harness/images/commands.ts";
import { liveProcesses } from "../../harness/vm/reaper.ts";

const litters = defineCase({
  id: "T3",
  name: "test-only-leaves-state-behind",
  groups: ["T"],
  expect: "test-only: leaves a mount, two processes and a memory cgroup that its reset does not undo",
  async run(t) {
    await t.sh("mkdir -p /mnt/stray /sys/fs/cgroup/stray && mount -t tmpfs stray /mnt/stray && (sleep 300 >/dev/null 2>&1 &)");
    await t.agent.spawn(["/bin/sleep", "300"], { maxMs: 300_000 });
    t.expect("litter in place", (await t.sh("grep -c ' /mnt/stray ' /proc/mounts")).stdout.trim() === "1");
  },
});

const inspects = defineCase({
  id: "T4",
  name: "test-only-sees-a-clean-guest",
  groups: ["T"],
  expect: "test-only: no mount, process or cgroup of the case before is visible",
  async run(t) {
    const mounts = (await t.sh("cat /proc/mounts")).stdout;
    t.expect("no stray mount", !mounts.includes(" /mnt/stray "), { seen: mounts });
    const sleepers = (await t.sh("ps -o pid,args | grep '[s]leep 300' || true")).stdout.trim();
    t.expect("no stray process", sleepers === "", { seen: sleepers });
    const cgroups = (await t.sh("ls /sys/fs/cgroup")).stdout;
    t.expect("no stray cgroup", !/^stray$/m.test(cgroups), { seen: cgroups });
  },
});

let kernel: Kernel;
let out: string;
beforeAll(async () => {
  kernel = await resolveKernel();
  out = await mkdtemp(path.join(os.tmpdir(), "pcshare-clean-"));
}, 600_000);
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("the guest is clean before each case", () => {
  it("undoes what the case before left, records it, and keeps the guest", async () => {
    const run = await runSuite({ kernel, cases: [litters, inspects], outDir: path.join(out, "a"), specs: DEFAULT_SPECS, spareGuest: false });
    const [first, second] = run.cases;
    expect(first.outcome, first.reason).toBe("pass");
    expect(first.cleanState?.leftovers).toEqual([]);
    expect(second.outcome, JSON.stringify(second.checks)).toBe("pass");
    const left = second.cleanState!.leftovers.join("\n");
    expect(left).toMatch(/mounts beyond the guest's base set: .*\/mnt\/stray/);
    expect(left).toMatch(/processes left by earlier cases: .*sleep.*sleep/);
    expect(left).toMatch(/cgroups left by earlier cases: \/sys\/fs\/cgroup\/stray/);
    expect(second.cleanState!.checks.every((c) => c.ok), JSON.stringify(second.cleanState)).toBe(true);
    expect(second.cleanState!.checks.map((c) => c.name)).toContain("dying memory cgroups (root cgroup.stat nr_dying_descendants)");
    expect(second.cleanState!.freshGuest).toBe(false);
    expect(run.boots).toHaveLength(1);
    expect(liveProcesses()).toBe(0);
  }, 400_000);

  it("moves to a fresh guest when the state does not come clean within the bound", async () => {
    const run = await runSuite({ kernel, cases: [litters, inspects], outDir: path.join(out, "b"), specs: DEFAULT_SPECS, spareGuest: false, cleanBoundMs: 0 });
    const second = run.cases[1];
    expect(second.outcome, JSON.stringify(second.checks)).toBe("pass");
    expect(second.cleanState!.freshGuest).toBe(true);
    expect(second.cleanState!.checks.find((c) => c.name === "mounts beyond the guest's base set")?.ok).toBe(false);
    expect(run.boots).toHaveLength(2);
    expect(liveProcesses()).toBe(0);
  }, 400_000);
});
