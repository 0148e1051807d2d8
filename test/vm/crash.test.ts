// The crash classifier over real console logs collected from real guests (test/fixtures/console,
// produced by scripts/collect-crash-fixtures.ts; each file's header says how).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyConsole, FATAL_KINDS, stripTimestamp } from "../../harness/vm/crash.ts";

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
    // Every other header each pattern stands for (the optional prefixes with and without them).
    ["[   12.1] BUG: soft lockup - CPU#12 stuck for 122s! [kworker/1:2:77]", "soft_lockup"],
    ["[   12.1] Watchdog detected hard LOCKUP on cpu 1", "hard_lockup"],
    ["[   12.1] NMI Watchdog detected hard LOCKUP on cpu 1", "hard_lockup"],
    ["[   12.1] watchdog detected hard LOCKUP on cpu 3", "hard_lockup"],
    ["[  245.1] INFO: task kworker/u8:2:123 blocked for more than 120 seconds.", "hung_task"],
    ["[   12.1] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu_stall"],
    ["[   12.1] rcu: INFO: rcu_preempt detected stall on CPU", "rcu_stall"],
    ["[   12.1] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21 jiffies s: 97 root: 0x2/.", "rcu_stall"],
    ["[   12.1] WARNING: possible recursive locking detected", "lockdep"],
    ["[   12.1] WARNING: inconsistent lock state", "lockdep"],
    ["[   12.1] WARNING: suspicious RCU usage", "lockdep"],
    ["[   12.1] WARNING: bad unlock balance detected!", "lockdep"],
    ["[   12.1] WARNING: held lock freed!", "lockdep"],
    ["[   12.1] WARNING: lock held when returning to user space!", "lockdep"],
    ["[   12.1] WARNING: possible irq lock inversion dependency detected", "lockdep"],
    ["[   12.1] WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected", "lockdep"],
    ["[   12.1] WARNING: Nested lock was not taken", "lockdep"],
    ["[   12.1] Busy inodes after unmount of vdb (erofs)", "busy_inodes"],
    ["[   12.1] list_del corruption. prev->next should be ffff888006a1c0a8, but was ffff888006a1c0a0. (prev=ffff888006a1c0a0)", "list_corruption"],
    ["[   12.1] list_add corruption. next->prev should be prev (ffff8880), but was 0000000000000000. (next=ffff8880).", "list_corruption"],
    ["[   12.1] kmem_cache_destroy erofs_inode: Slab cache still has objects when called from erofs_exit+0x1c/0x30", "slab_leak"],
    ["[   12.1] BUG erofs_inode (Tainted: G    B  ): Objects remaining in erofs_inode on __kmem_cache_shutdown()", "slab_leak"],
    ["[   12.1] BUG kmalloc-64 (Not tainted): Objects remaining in kmalloc-64 on __kmem_cache_shutdown()", "slab_leak"],
    ["[   12.1] BUG: unable to handle kernel paging request at ffffffffc0000000", "oops"],
    ["[   12.1] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP", "oops"],
    ["[   12.1] WARNING: lib/list_debug.c:29 at __list_add_valid_or_report+0xb3/0x126, CPU#1: sh/54", "warning"],
    ["[   12.1] WARNING: CPU: 12 PID: 1077 at fs/erofs/ishare.c:120 erofs_ishare_free_inode+0x5/0x9", "warning"],
    ["[   12.1] WARNING: fs/erofs/ishare.c:120 at erofs_ishare_free_inode+0x5/0x9, CPU#12: sh/54", "warning"],
    ["[   12.1] BUG: scheduling while atomic: sh/55/0x00000002", "bug"],
    ["[   12.1] BUG: sleeping function called from invalid context at mm/slab.h:123", "bug"],
    ["[   12.1] Kernel panic - not syncing: Fatal exception", "panic"],
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

describe("classifyConsole: what is not a report", () => {
  const quiet = [
    "[    1.0] erofs (device vdb): mounted with root inode @ nid 36.",
    "[    1.0] WARNING: unsupported feature", // a WARNING: without "at" is a message, not a kernel WARN
    "[    1.0] BUG erofs_inode: not a slab report", // slab reports say "(taint): Objects remaining"
    "[    1.0] INFO: task sh:54 blocked for more than a while",
    "[    1.0] rcu: INFO: rcu_preempt stalled",
    "[    1.0] Kernel panic? no",
    "[    1.0] list_add corruption",
    "[    1.0] Watchdog detected soft lockup",
    "[    1.0] soft lockup - CPU#0 stuck",
  ];
  it.each(quiet)("%s -> nothing", (line) => {
    expect(classifyConsole(line)).toEqual([]);
  });
});

describe("classifyConsole excerpts", () => {
  const numbered = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `[   20.${String(from + i).padStart(6, "0")}] line ${from + i}`);

  it("starts two lines before the header and ends with the end-of-trace marker, included", () => {
    const log = [
      "[   19.000000] a",
      "[   19.000001] b",
      "[   19.000002] c",
      "[   19.100000] WARNING: CPU: 0 PID: 1 at fs/erofs/x.c:1 f+0x1/0x2",
      "[   19.100001] Call Trace:",
      "[   19.100002] ---[ end trace 0000000000000000 ]---",
      "[   19.100003] after",
    ].join("\n");
    const [r] = classifyConsole(log);
    expect(r.excerpt.split("\n")).toEqual([
      "[   19.000001] b",
      "[   19.000002] c",
      "[   19.100000] WARNING: CPU: 0 PID: 1 at fs/erofs/x.c:1 f+0x1/0x2",
      "[   19.100001] Call Trace:",
      "[   19.100002] ---[ end trace 0000000000000000 ]---",
    ]);
  });

  it("starts at the first line when the header is the first or second line", () => {
    expect(classifyConsole("[ 1.0] kernel BUG at fs/x.c:1!\n[ 1.1] y")[0].excerpt).toBe("[ 1.0] kernel BUG at fs/x.c:1!\n[ 1.1] y");
    expect(classifyConsole("[ 0.9] x\n[ 1.0] kernel BUG at fs/x.c:1!")[0].excerpt).toBe("[ 0.9] x\n[ 1.0] kernel BUG at fs/x.c:1!");
  });

  it("ends at the end-of-panic marker and at a KASAN-style rule line", () => {
    const panic = "[ 1.0] Kernel panic - not syncing: x\n[ 1.1] ---[ end Kernel panic - not syncing: x ]---\n[ 1.2] more";
    expect(classifyConsole(panic)[0].excerpt.split("\n").at(-1)).toBe("[ 1.1] ---[ end Kernel panic - not syncing: x ]---");
    const rule = "=".repeat(66);
    const kasan = `[ 1.0] BUG: KASAN: use-after-free in f+0x1/0x2\n[ 1.1] Read of size 8\n[ 1.2] ${rule}\n[ 1.3] more`;
    expect(classifyConsole(kasan)[0].excerpt.split("\n").at(-1)).toBe(`[ 1.2] ${rule}`);
    // A rule of exactly 20 ends it; a shorter one (decode_stacktrace.sh's "========") does not.
    const twenty = `[ 1.0] BUG: KASAN: x\n[ 1.1] ${"=".repeat(20)}\n[ 1.2] more`;
    expect(classifyConsole(twenty)[0].excerpt.split("\n")).toHaveLength(2);
    const short = `[ 1.0] BUG: KASAN: x\n[ 1.1] ${"=".repeat(19)}\n[ 1.2] more`;
    expect(classifyConsole(short)[0].excerpt.split("\n")).toHaveLength(3);
    const ruleAndText = `[ 1.0] BUG: KASAN: x\n[ 1.1] ${"=".repeat(30)} x\n[ 1.2] more`;
    expect(classifyConsole(ruleAndText)[0].excerpt.split("\n")).toHaveLength(3);
    const inText = `[ 1.0] BUG: KASAN: x\n[ 1.1] a ${"=".repeat(30)}\n[ 1.2] more`;
    expect(classifyConsole(inText)[0].excerpt.split("\n")).toHaveLength(3);
  });

  it("takes at most 60 lines from the header when no end marker comes", () => {
    const log = ["[   19.1] Oops: 0000 [#1] SMP", ...numbered(100)].join("\n");
    const lines = classifyConsole(log)[0].excerpt.split("\n");
    expect(lines).toHaveLength(60);
    expect(lines.at(-1)).toBe("[   20.000058] line 58");
  });

  it("counts a header on the 60th line of an excerpt as part of it", () => {
    const log = ["[   19.1] Oops: 0000 [#1] SMP", ...numbered(58), "[   21.0] kernel BUG at fs/x.c:1!", "[   21.1] after"].join("\n");
    expect(classifyConsole(log).map((r) => r.kind)).toEqual(["oops"]);
  });

  it("runs to the end of the log when it ends before 60 lines", () => {
    const log = ["[   19.1] Oops: 0000 [#1] SMP", ...numbered(5)].join("\n");
    expect(classifyConsole(log)[0].excerpt.split("\n")).toHaveLength(6);
  });

  it("reports a second header inside an excerpt as part of the first, and one after it on its own", () => {
    const inside = ["[ 1.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2", "[ 1.1] BUG: scheduling while atomic: sh/1/0x2", "[ 1.2] ---[ end trace 0 ]---"];
    expect(classifyConsole(inside.join("\n")).map((r) => r.kind)).toEqual(["warning"]);
    const after = [...inside, "[ 1.3] BUG: scheduling while atomic: sh/1/0x2"];
    expect(classifyConsole(after.join("\n")).map((r) => r.kind)).toEqual(["warning", "bug"]);
    // The end marker itself belongs to the first report: a header right after it starts a new one.
    const [, second] = classifyConsole(after.join("\n"));
    expect(second.excerpt.split("\n")[0]).toBe("[ 1.1] BUG: scheduling while atomic: sh/1/0x2");
  });

  it("trims the blanks a console leaves at the end of a header line off the title", () => {
    expect(classifyConsole("[ 1.0] kernel BUG at fs/x.c:3!   \n")[0].title).toBe("kernel BUG at fs/x.c:3!");
  });

  it("reads CRLF consoles: no carriage return in titles or excerpts", () => {
    const r = classifyConsole("[ 1.0] boot\r\n[ 1.1] kernel BUG at fs/x.c:2!\r\n[ 1.2] RIP: f\r\n");
    expect(r).toHaveLength(1);
    expect(r[0].title).toBe("kernel BUG at fs/x.c:2!");
    expect(r[0].excerpt).not.toContain("\r");
  });

  it("ends the KFENCE fixture's report at its closing rule, and the list corruption's at its end of trace", () => {
    const kfence = classifyConsole(fixture("kfence-use-after-free.log"))[0].excerpt.split("\n");
    expect(kfence.slice(0, 2)).toEqual(["pcshare-init: ready at 10.16 s", "[   10.484137] " + "=".repeat(66)]); // the two lines before the header
    expect(kfence.at(-1)).toBe("[   10.497217] " + "=".repeat(66));
    const list = classifyConsole(fixture("list-add-corruption.log"))[0].excerpt.split("\n");
    expect(list.at(-1)).toBe("[    8.962250] ---[ end trace 0000000000000000 ]---");
  });

  it("cuts the KASAN fixture's 79-line report at 60 lines from its header", () => {
    const lines = classifyConsole(fixture("kasan-slab-out-of-bounds.log"))[0].excerpt.split("\n");
    expect(lines).toHaveLength(62);
    expect(lines[2]).toMatch(/BUG: KASAN: slab-out-of-bounds/);
  });
});

describe("stripTimestamp", () => {
  const cases: [string, string][] = [
    ["[   12.345678] erofs: mounted", "erofs: mounted"],
    ["  [    0.000000] Linux version", "Linux version"], // leading blanks some consoles add
    ["[    0.000000][    T0] Linux version", "Linux version"], // CONFIG_PRINTK_CALLER
    ["[   13.048824][    C1] watchdog: BUG", "watchdog: BUG"],
    ["[   13.048824][ T1234] erofs: x", "erofs: x"],
    ["erofs: [   2.000000] not at the start", "erofs: [   2.000000] not at the start"],
    ["[  101.5]msg", "msg"],
    ["erofs: [T1] no timestamp", "erofs: [T1] no timestamp"],
    ["[ 1.0] text [   2.0] inside", "text [   2.0] inside"],
    ["[12] not a timestamp", "[12] not a timestamp"],
    ["[ 1.0]  two spaces", " two spaces"],
  ];
  it.each(cases)("%j -> %j", (line, text) => {
    expect(stripTimestamp(line)).toBe(text);
  });
});

describe("FATAL_KINDS", () => {
  // After these the kernel is not trusted for further cases in the same boot; after the others it is.
  const kinds: [string, boolean][] = [
    ["panic", true],
    ["oops", true],
    ["bug", true],
    ["kasan", true],
    ["kfence", true],
    ["soft_lockup", true],
    ["hard_lockup", true],
    ["rcu_stall", true],
    ["busy_inodes", true], // the superblock is gone while inodes point at it: use-after-free follows
    ["list_corruption", true],
    ["warning", false],
    ["lockdep", false],
    ["hung_task", false],
    ["slab_leak", false],
  ];
  it.each(kinds)("%s: fatal %s", (kind, fatal) => {
    expect(FATAL_KINDS.has(kind)).toBe(fatal);
  });

  it("names only kinds the classifier produces", () => {
    const known = new Set(kinds.map(([k]) => k));
    expect([...FATAL_KINDS].filter((k) => !known.has(k))).toEqual([]);
  });
});
