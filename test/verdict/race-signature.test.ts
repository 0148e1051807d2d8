// The registered unmount race (known-bugs/erofs-ishare-unmount-busy-inodes-race.yaml) against whole
// consoles recorded on the kernel built from Debian's linux-source 7.2.13 (base + share-on fragments,
// no NOPTI, no BUG_ON_DATA_CORRUPTION) and on Debian's prebuilt 7.2.13: every shape the race took
// there is xfail, and changing one detail of it (the poisoned address, the function, the call trace,
// the busy-inodes line) makes it fail again.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult, Check, KernelInfo } from "../../harness/report/model.ts";
import { applyToCase } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { classifyConsole } from "../../harness/vm/crash.ts";

const bugs = await loadKnownBugs();
const RACE = "erofs-ishare-unmount-busy-inodes-race";
const console_ = (name: string) => readFileSync(new URL(`../fixtures/console/${name}`, import.meta.url), "utf8");

const L1deb = console_("deb-race-L1-dying-reader-oopses-again.log");
const V2deb = console_("deb-race-V2-readers-killed-before-a-read.log");
const debian = { source: "debian:sid", release: "7.2.13+deb14-amd64", version: "7.2.13-1" };

const kernel: KernelInfo = {
  source: "debian-source:7.2.13-1",
  release: "7.2.13-pcshare",
  version: "7.2.13-pcshare",
  hashes: {},
  config: {
    CONFIG_EROFS_FS: "y", CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y", CONFIG_EROFS_FS_BACKED_BY_FILE: "y", CONFIG_EROFS_FS_ZIP: "y",
    CONFIG_EROFS_FS_DEBUG: "n", CONFIG_KASAN: "n", CONFIG_PROVE_LOCKING: "n", CONFIG_DEBUG_VM: "n", CONFIG_MEMCG: "y", CONFIG_CACHESTAT_SYSCALL: "y",
  },
} as KernelInfo;

function failedCase(id: string, log: string, checks: Check[] = []): CaseResult {
  return { id, name: "race", outcome: "fail", checks, crashes: classifyConsole(log), durationMs: 1 } as unknown as CaseResult;
}

const L1 = console_("src-race-L1-busy-inodes-inside-null-deref.log");
const L2 = console_("src-race-L2-gpf-poisoned-pointer.log");
const L3 = console_("src-race-L3-gpf-erofs-map-blocks.log");
const L3iput = console_("src-race-L3-gpf-iput-in-shared-read.log");

describe("the unmount race on the source-built kernel", () => {
  it("reports busy inodes printed inside another CPU's NULL dereference as a report of its own", () => {
    const kinds = classifyConsole(L1).map((r) => r.kind);
    expect(kinds.slice(0, 2)).toEqual(["bug", "busy_inodes"]);
  });

  it.each([
    ["L1", L1, "a NULL dereference in erofs_map_dev with busy inodes inside it, poisoned pointers in erofs_map_blocks"],
    ["L2", L2, "NULL dereferences in z_erofs_scan_folio, a poisoned pointer in z_erofs_map_blocks_fo"],
    ["L3", L3, "NULL dereference and a poisoned pointer in erofs_map_dev"],
    ["L3", L3iput, "a poisoned pointer in iput, called from erofs_fileio_readahead under erofs_ishare_file_read_iter"],
  ])("%s: %s is the registered race", (id, log) => {
    const out = applyToCase(failedCase(id, log), kernel, bugs);
    expect(out.reason).not.toContain("not known bug");
    expect(out.outcome).toBe("xfail");
    expect(out.knownBugs?.map((b) => b.id)).toEqual([RACE]);
  });

  it("with the race loop's own check (the first report line it saw)", () => {
    const seen: Check = { name: "kernel report during the race (first line)", ok: false, expected: "null", seen: "BUG: kernel NULL pointer dereference, address: 0000000000000038" };
    expect(applyToCase(failedCase("L1", L1, [seen]), kernel, bugs).outcome).toBe("xfail");
  });

  it.each([
    ["a general protection fault at an address that is not a poison value", L2.replaceAll("0xdead000000000109", "0x4141414141414141")],
    ["the poisoned pointer in a function outside EROFS' read path", L1.replaceAll("RIP: 0010:erofs_map_blocks+", "RIP: 0010:ext4_map_blocks+")],
    ["a poisoned pointer in iput outside the shared read path", L3iput.replaceAll("erofs_ishare_file_read_iter", "ext4_file_read_iter")],
    ["no busy inodes after unmount (the reader crashed alone)", L1.replaceAll(/VFS: Busy inodes after unmount of \S+ \(erofs\)/g, "erofs: unmounted")],
    ["a KASAN report besides the race", `${L1}\n[    9.000000] BUG: KASAN: slab-use-after-free in erofs_map_blocks+0x10/0x100\n`],
  ])("stays fail: %s", (_what, log) => {
    const out = applyToCase(failedCase("L1", log), kernel, bugs);
    expect(out.outcome).toBe("fail");
    expect(out.reason).toContain(`not known bug ${RACE}`);
  });
});

describe("the unmount race on Debian's prebuilt kernel", () => {
  const deb = { ...kernel, ...debian } as KernelInfo;
  const v2Checks: Check[] = [
    { name: "kernel report during the race (first line)", ok: false, expected: "null", seen: "VFS: Busy inodes after unmount of 0:57 (erofs)" },
    { name: "the reader threads completed reads", ok: false, expected: "> 0", seen: "0" },
    { name: "the race's worker process ended by itself", ok: false, expected: "exited", seen: "signalled" },
  ];

  it("a reader the race's oops killed oopses again on its way out (under make_task_dead): still the race", () => {
    expect(applyToCase(failedCase("L1", L1deb), deb, bugs).outcome).toBe("xfail");
  });

  it("the same oops outside a dying task's exit is not", () => {
    const out = applyToCase(failedCase("L1", L1deb.replaceAll("make_task_dead+", "kthread+")), deb, bugs);
    expect(out.outcome).toBe("fail");
    expect(out.reason).toContain("__blk_flush_plug");
  });

  it("V2 whose readers were killed before one read completed", () => {
    expect(applyToCase(failedCase("V2", V2deb, v2Checks), deb, bugs).outcome).toBe("xfail");
    const someReads = v2Checks.map((k) => (k.name === "the reader threads completed reads" ? { ...k, seen: "3" } : k));
    expect(applyToCase(failedCase("V2", V2deb, someReads), deb, bugs).outcome).toBe("fail");
  });
});
