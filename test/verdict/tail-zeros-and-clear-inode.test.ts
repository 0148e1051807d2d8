// Two registrations grown from recorded failures on Debian's 7.2.13: the inline-tail bug as D2 and
// D5 show it over the layout matrix (bs1024-plain and bs2048, both read orders, with the WARNING
// only in the first case of a guest), and the unmount race's shape that BUGs in clear_inode before
// any busy-inodes line. Each recorded failure is xfail; the same failure with one detail changed
// (another file, another layout, another BUG line or caller, a busy-inodes report missing where the
// other registration needs it) stays fail. And found case E1's NULL dereference, through read(2) and
// through a page fault.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult, Check, KernelInfo } from "../../harness/report/model.ts";
import { applyToCase } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { classifyConsole } from "../../harness/vm/crash.ts";

const bugs = await loadKnownBugs();
const TAIL: Record<string, string> = { D2: "erofs-ishare-inline-tail-zeros-bs2048", D5: "erofs-ishare-inline-tail-zeros-d5" };
const CLEAR = "erofs-ishare-unmount-evicts-inode-with-pages-race";
const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/deb-d2-d5-tail-zeros-all-variants.json", import.meta.url), "utf8")) as { kernel: KernelInfo; cases: CaseResult[] };
const kernel = recorded.kernel;
const caseOf = (id: string) => structuredClone(recorded.cases.find((c) => c.id === id)!);

describe("the inline-tail bug over the layout matrix", () => {
  it.each(["D2", "D5"])("%s as recorded with every variant is xfail", (id) => {
    const c = caseOf(id);
    expect(c.outcome).toBe("fail");
    const out = applyToCase(c, kernel, bugs);
    expect(out.reason).not.toContain("not known bug");
    expect(out.outcome).toBe("xfail");
    expect(out.knownBugs?.map((b) => b.id)).toEqual([TAIL[id]]);
  });

  it("D5 without the WARNING (printed once per guest, by D2) is still the bug", () => {
    const d5 = caseOf("D5");
    expect(d5.crashes).toEqual([]);
    expect(applyToCase(d5, kernel, bugs).outcome).toBe("xfail");
  });

  it("D2 with only the bs2048 variants that ran in its window is the bug", () => {
    const d2 = caseOf("D2");
    d2.variants = ["bs512", "bs2048"];
    d2.checks = d2.checks.filter((k) => k.name.startsWith("bs2048/"));
    expect(applyToCase(d2, kernel, bugs).outcome).toBe("xfail");
  });

  it.each<[string, (c: CaseResult) => void]>([
    ["another file read wrong", (c) => (c.checks[0].seen = String(c.checks[0].seen).replaceAll("tail.bin", "big.bin"))],
    ["the same failure on bs4096", (c) => (c.checks[0].name = c.checks[0].name.replaceAll("bs1024-plain", "bs4096"))],
    ["a run whose variants include neither bs1024-plain nor bs2048", (c) => (c.variants = ["lz4", "zstd"])],
    ["a KASAN report besides", (c) => c.crashes.push(...classifyConsole("[    9.000000] BUG: KASAN: slab-use-after-free in erofs_read_folio+0x10/0x100\n"))],
  ])("stays fail: %s", (_what, edit) => {
    const d2 = caseOf("D2");
    edit(d2);
    const out = applyToCase(d2, kernel, bugs);
    expect(out.outcome).toBe("fail");
  });
});

describe("the unmount race's BUG in clear_inode", () => {
  const log = readFileSync(new URL("../fixtures/console/deb-race-L2-clear-inode-bug.log", import.meta.url), "utf8");
  const checks: Check[] = [
    { name: "kernel report during the race (first line)", ok: false, expected: "null", seen: "kernel BUG at fs/inode.c:777!" },
    { name: "the race's worker process ended by itself", ok: false, expected: "exited", seen: "signalled" },
  ];
  const failed = (l: string, k: Check[] = checks): CaseResult => ({ id: "L2", name: "race", outcome: "fail", checks: structuredClone(k), crashes: classifyConsole(l), durationMs: 1 }) as unknown as CaseResult;

  it("as recorded (no busy-inodes line) is xfail by its own registration, not the busy-inodes one", () => {
    const out = applyToCase(failed(log), kernel, bugs);
    expect(out.reason).not.toContain("not known bug");
    expect(out.outcome).toBe("xfail");
    expect(out.knownBugs?.map((b) => b.id)).toEqual([CLEAR]);
  });

  it.each([
    ["a BUG at another line of fs/inode.c", log.replaceAll("fs/inode.c:777", "fs/inode.c:778"), checks],
    ["the BUG from another file system's put_super", log.replaceAll("erofs_put_super", "ext4_put_super"), checks],
    ["the race's first line another report", log, [{ ...checks[0], seen: "kernel BUG at fs/dcache.c:1609!" }, checks[1]]],
  ])("stays fail: %s", (_what, l, k) => {
    const out = applyToCase(failed(l, k), kernel, bugs);
    expect(out.outcome).toBe("fail");
    expect(out.reason).toContain("not known bug");
  });
});

describe("the NULL dereference of found case E1 (chunked 1 KiB blocks, a blob device)", () => {
  const CHUNKED = "erofs-ishare-chunked-subpage-read-null-deref";
  const e1 = (consoleFile: string): CaseResult =>
    ({
      id: "E1", name: "found-warning-in-iomap-readahead", groups: ["E"], tags: [], outcome: "fail", reason: "kernel bug", durationMs: 1,
      checks: [], measurements: [], findings: [], artifacts: {},
      crashes: classifyConsole(readFileSync(new URL(`../fixtures/console/${consoleFile}`, import.meta.url), "utf8")),
    }) as unknown as CaseResult;

  it.each([
    ["through read(2), after the WARNING", "deb-explore-chunked-bs1024-warning-then-null-deref.log"],
    ["through a page fault, the WARNING spent by an earlier case", "deb-e1-null-deref-fault-path.log"],
  ])("%s: xfail", (_label, file) => {
    const out = applyToCase(e1(file), kernel, bugs);
    expect(out.reason).not.toContain("not known bug");
    expect(out.outcome).toBe("xfail");
    expect(out.knownBugs?.map((b) => b.id)).toEqual([CHUNKED]);
  });

  it("a NULL dereference elsewhere, or not from erofs_read_folio, stays a fail", () => {
    const other = e1("deb-e1-null-deref-fault-path.log");
    other.crashes[0].excerpt = other.crashes[0].excerpt.replaceAll("iomap_read_folio_iter+", "iomap_readahead_iter+");
    expect(applyToCase(other, kernel, bugs).outcome).toBe("fail");
    const caller = e1("deb-e1-null-deref-fault-path.log");
    caller.crashes[0].excerpt = caller.crashes[0].excerpt.replaceAll("erofs_read_folio+", "ext4_read_folio+");
    expect(applyToCase(caller, kernel, bugs).outcome).toBe("fail");
  });
});
