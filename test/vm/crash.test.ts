// The crash classifier over real console logs collected from real guests (test/fixtures/console,
// produced by scripts/collect-crash-fixtures.ts; each file's header says how).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyConsole, stripTimestamp } from "../../harness/vm/crash.ts";

const fixture = (name: string) => readFileSync(path.join(__dirname, "../fixtures/console", name), "utf8");

describe("classifyConsole on real kernel logs", () => {
  it("reports the sysrq crash as a panic with its excerpt", () => {
    const reports = classifyConsole(fixture("sysrq-crash.log"));
    expect(reports.map((r) => r.kind)).toEqual(["panic"]);
    expect(reports[0].title).toBe("Kernel panic - not syncing: sysrq triggered crash");
    expect(reports[0].excerpt).toContain("sysrq: Trigger a crash");
    expect(reports[0].excerpt).toContain("Call Trace:");
  });

  it("reports a writer stuck on a frozen filesystem as a hung task, once per message", () => {
    const reports = classifyConsole(fixture("hung-task.log"));
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.every((r) => r.kind === "hung_task")).toBe(true);
    expect(reports[0].title).toMatch(/^INFO: task sh:\d+ blocked for more than 2 seconds\.$/);
  });

  // The debug kernel's reports, provoked through lkdtm (scripts/collect-crash-fixtures.ts --debug).
  const debugReports: [string, string, RegExp, string][] = [
    ["kasan-slab-out-of-bounds.log", "kasan", /^BUG: KASAN: slab-out-of-bounds in lkdtm_SLAB_LINEAR_OVERFLOW\+/, "Write of size 4 at addr"],
    ["kasan-use-after-free.log", "kasan", /^BUG: KASAN: slab-use-after-free in lkdtm_READ_AFTER_FREE\+/, "Freed by task"],
    ["kfence-use-after-free.log", "kfence", /^BUG: KFENCE: use-after-free read in lkdtm_KFENCE_READ_AFTER_FREE\+/, "kfence-#"],
    ["lockdep-lock-held-returning.log", "lockdep", /^WARNING: lock held when returning to user space!$/, "(lock_me_up)"],
    ["list-add-corruption.log", "list_corruption", /^list_add corruption\. next->prev should be prev /, "WARNING: lib/list_debug.c"],
    ["soft-lockup.log", "soft_lockup", /^watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s! \[sh:\d+\]$/, "lkdtm_SOFTLOCKUP"],
  ];
  it.each(debugReports)("reports the debug kernel's %s as %s first, with its title and trace", (file, kind, title, inExcerpt) => {
    const reports = classifyConsole(fixture(file));
    expect(reports[0].kind).toBe(kind);
    expect(reports[0].title).toMatch(title);
    expect(reports[0].excerpt).toContain(inExcerpt);
    expect(reports.every((r) => r.kind === kind)).toBe(true); // what follows a report stays in its excerpt
  });

  it.each(debugReports)("classifies the decode_stacktrace.sh output of %s the same way", (file, kind) => {
    const symbolized = fixture(file.replace(/\.log$/, ".symbolized.log"));
    expect(symbolized).toMatch(/\((?:drivers|mm|kernel|lib|fs|arch)\/[\w/.-]+\.[ch]:\d+/); // file:line frames
    expect(classifyConsole(symbolized)[0].kind).toBe(kind);
  });

  it("finds nothing in a clean boot log (the boot part of the fixtures)", () => {
    const clean = fixture("sysrq-crash.log").split("sysrq: Trigger a crash")[0];
    expect(classifyConsole(clean)).toEqual([]);
  });
});

describe("classifyConsole patterns", () => {
  // Report headers as the kernel prints them (format strings from mm/kasan/report.c, kernel/locking/
  // lockdep.c, kernel/watchdog.c, kernel/rcu/tree_stall.h, fs/super.c, kernel/panic.c).
  const cases: [string, string][] = [
    ["[   12.1] BUG: KASAN: slab-use-after-free in erofs_ishare_fill_inode+0x1c/0x90", "kasan"],
    ["[   12.1] BUG: KFENCE: use-after-free read in erofs_read_folio+0x10/0x20", "kfence"],
    ["[   12.1] WARNING: possible circular locking dependency detected", "lockdep"],
    ["[   12.1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [cat:123]", "soft_lockup"],
    ["[   12.1] rcu: INFO: rcu_preempt self-detected stall on CPU", "rcu_stall"],
    ["[   12.1] VFS: Busy inodes after unmount of loop0 (erofs)", "busy_inodes"],
    ["[   12.1] WARNING: CPU: 1 PID: 77 at fs/erofs/ishare.c:120 erofs_ishare_free_inode+0x5/0x9", "warning"],
    ["[   12.1] kernel BUG at fs/erofs/ishare.c:55!", "bug"],
    ["[   12.1] BUG: unable to handle page fault for address: ffff888000000000", "oops"],
    ["[   12.1] Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP", "oops"],
  ];
  it.each(cases)("%s -> %s", (line, kind) => {
    const r = classifyConsole(`[    1.0] boot\n${line}\n[   12.2] next line`);
    expect(r).toHaveLength(1);
    expect(r[0].kind).toBe(kind);
    expect(r[0].title).toBe(stripTimestamp(line));
  });

  it("keeps a panic that follows an oops as its own report", () => {
    const log = "[ 1.0] Oops: 0000 [#1] SMP\n[ 1.1] RIP: x\n[ 1.2] Kernel panic - not syncing: Fatal exception\n";
    expect(classifyConsole(log).map((r) => r.kind)).toEqual(["oops", "panic"]);
  });
});
