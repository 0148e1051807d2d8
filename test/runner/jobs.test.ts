// The default number of guests at once (pure: the host's shape is passed in) and the standby rule.
import { afterEach, describe, expect, it } from "vitest";
import { defaultJobs, standbyGuests, GUEST_OVERHEAD_MIB, MEMORY_HEADROOM_MIB } from "../../harness/runner/jobs.ts";

const guest = { memoryMiB: 1024, cpus: 2 };

describe("defaultJobs", () => {
  it("under TCG: one guest per core when memory and cases allow", () => {
    const c = defaultJobs({ cpus: 2, availableMiB: 22_000, accel: "tcg", load: 0 }, guest, 60);
    expect(c.jobs).toBe(2);
    expect(c.why).toMatch(/^2 guest\(s\) at once: 2 by 2 CPU\(s\), one TCG guest per core; 2 by load average 0.00 on 2 CPU\(s\); 15 by 22000 MiB/);
  });

  it("load beyond the cores takes one guest per unit; at least one guest", () => {
    expect(defaultJobs({ cpus: 2, availableMiB: 22_000, accel: "tcg", load: 2 }, guest, 60).jobs).toBe(2);
    expect(defaultJobs({ cpus: 2, availableMiB: 22_000, accel: "tcg", load: 3 }, guest, 60).jobs).toBe(1);
    expect(defaultJobs({ cpus: 8, availableMiB: 64_000, accel: "tcg", load: 12 }, guest, 60).jobs).toBe(4);
    const loaded = defaultJobs({ cpus: 2, availableMiB: 22_000, accel: "tcg", load: 25 }, guest, 60);
    expect(loaded.jobs).toBe(1);
    expect(loaded.why).toContain("0 by load average 25.00 on 2 CPU(s)");
  });

  it("under KVM: cores divided by the guest's CPUs", () => {
    expect(defaultJobs({ cpus: 16, availableMiB: 64_000, accel: "kvm", load: 0 }, guest, 60).jobs).toBe(8);
    expect(defaultJobs({ cpus: 1, availableMiB: 64_000, accel: "kvm", load: 0 }, guest, 60).jobs).toBe(1);
  });

  it("memory: guest RAM plus QEMU's own within the available memory less the headroom", () => {
    const perGuest = 1024 + GUEST_OVERHEAD_MIB;
    const avail = MEMORY_HEADROOM_MIB + 3 * perGuest + perGuest - 1; // room for 3, not 4
    const c = defaultJobs({ cpus: 32, availableMiB: avail, accel: "tcg", load: 0 }, guest, 60);
    expect(c.jobs).toBe(3);
    expect(defaultJobs({ cpus: 32, availableMiB: 1000, accel: "tcg", load: 0 }, guest, 60).jobs).toBe(1); // never 0
  });

  it("never more guests than runnable cases", () => {
    expect(defaultJobs({ cpus: 8, availableMiB: 64_000, accel: "tcg", load: 0 }, guest, 3).jobs).toBe(3);
    expect(defaultJobs({ cpus: 8, availableMiB: 64_000, accel: "tcg", load: 0 }, guest, 0).jobs).toBe(1);
  });
});

describe("standbyGuests", () => {
  const saved = process.env.PCSHARE_SPARE_GUEST;
  afterEach(() => {
    if (saved === undefined) delete process.env.PCSHARE_SPARE_GUEST;
    else process.env.PCSHARE_SPARE_GUEST = saved;
  });

  it("one standby while a core is left beside the busy guests, else none", () => {
    delete process.env.PCSHARE_SPARE_GUEST;
    expect(standbyGuests(1, 2)).toBe(1); // today's serial run on 2 cores
    expect(standbyGuests(1, 1)).toBe(0);
    expect(standbyGuests(2, 2)).toBe(0);
    expect(standbyGuests(2, 4)).toBe(1);
  });

  it("PCSHARE_SPARE_GUEST and the option decide outright, the option first", () => {
    process.env.PCSHARE_SPARE_GUEST = "0";
    expect(standbyGuests(1, 8)).toBe(0);
    process.env.PCSHARE_SPARE_GUEST = "1";
    expect(standbyGuests(2, 2)).toBe(1);
    expect(standbyGuests(2, 2, false)).toBe(0);
  });
});
