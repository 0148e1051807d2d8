// Tests of the known-bugs verdict layer: which failures become xfail (all of the failure explained,
// every required part of the bug seen), which stay fail, when a pass is an xpass, and that kernels the
// bug is not registered for are untouched. Most rows start from a recorded run of the full suite on
// Debian's 7.2.13 (test/fixtures/runs/), with its real crash reports and checks.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult, Outcome, RunResult } from "../../harness/report/model.ts";
import { applyKnownBugs, applyToCase, callTrace, crashFunction, releaseVersion, tallyKnownBugs, withoutKnownBugs, withoutKnownBugsCase } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs, parseKnownBug } from "../../harness/verdict/load-known-bugs.ts";
import type { KnownBug } from "../../harness/verdict/known-bug-schema.ts";

const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8")) as RunResult;
const caseOf = (id: string): CaseResult => structuredClone(recorded.cases.find((c) => c.id === id)!);
const bugs = await loadKnownBugs();

describe("crash reports as the layer reads them", () => {
  it("takes the function from the kernel RIP line, the call trace without '?' frames", () => {
    const o3 = caseOf("O3").crashes[0];
    expect(crashFunction(o3)).toBe("strlen");
    expect(callTrace(o3).slice(0, 4)).toEqual(["erofs_xattr_fill_inode_fingerprint", "erofs_ishare_fill_inode", "erofs_iget", "erofs_lookup"]);
    expect(crashFunction(caseOf("D2").crashes[0])).toBe("iomap_readahead");
    expect(crashFunction({ kind: "kasan", title: "BUG: KASAN: null-ptr-deref in strlen+0x1c/0x40", excerpt: "" })).toBe("strlen");
    expect(crashFunction({ kind: "busy_inodes", title: "VFS: Busy inodes after unmount of vda (erofs)", excerpt: "VFS: Busy inodes" })).toBeUndefined();
  });

  it("reads X.Y.Z from a release", () => {
    expect(releaseVersion("7.2.13+deb14-amd64")).toBe("7.2.13");
    expect(releaseVersion("7.2.13")).toBe("7.2.13");
    expect(releaseVersion("6.12")).toBe("6.12.0");
    expect(releaseVersion("custom")).toBeUndefined();
  });
});

type Row = { name: string; id: string; edit?: (c: CaseResult) => void; kernel?: Partial<RunResult["kernel"]>; outcome: Outcome; bug?: string | string[] };

/** The unmount race is registered in two shapes: busy inodes, and the BUG in clear_inode before them. */
const RACES = ["erofs-ishare-unmount-busy-inodes-race", "erofs-ishare-unmount-evicts-inode-with-pages-race"];

const extraCheck = { name: "an unrelated expectation", ok: false, expected: "1", seen: "2" };
const rows: Row[] = [
  { name: "O3 as recorded: oops + its two checks", id: "O3", outcome: "xfail", bug: "erofs-remount-inode-share-null-domain" },
  { name: "D2 as recorded: zeros check + iomap WARNING", id: "D2", outcome: "xfail", bug: "erofs-ishare-inline-tail-zeros-bs2048" },
  { name: "L2 as recorded: busy inodes, do_exit WARNING, BUG at fs/super.c:639", id: "L2", outcome: "xfail", bug: "erofs-ishare-unmount-busy-inodes-race" },
  { name: "O3 plus an extra failed check", id: "O3", edit: (c) => c.checks.push(extraCheck), outcome: "fail" },
  { name: "D2 plus an extra failed check", id: "D2", edit: (c) => c.checks.push(extraCheck), outcome: "fail" },
  {
    name: "O3 with the oops in another function",
    id: "O3",
    edit: (c) => (c.crashes[0].excerpt = c.crashes[0].excerpt.replace("RIP: 0010:strlen+", "RIP: 0010:strnlen+")),
    outcome: "fail",
  },
  {
    name: "O3 with another caller of strlen",
    id: "O3",
    edit: (c) => (c.crashes[0].excerpt = c.crashes[0].excerpt.replaceAll("erofs_xattr_fill_inode_fingerprint", "erofs_getxattr")),
    outcome: "fail",
  },
  { name: "O3 with the crash of another kind", id: "O3", edit: (c) => (c.crashes[0].kind = "kasan"), outcome: "fail" },
  { name: "D2 with a second crash (the O3 oops)", id: "D2", edit: (c) => c.crashes.push(caseOf("O3").crashes[0]), outcome: "fail" },
  { name: "D2 with another file read wrong", id: "D2", edit: (c) => (c.checks.find((k) => !k.ok)!.seen = '["bs2048:/tail.bin","bs2048:/hole.bin"]'), outcome: "fail" },
  { name: "O3 without its required oops (checks alone)", id: "O3", edit: (c) => (c.crashes = []), outcome: "fail" },
  { name: "O3 oops with no checks recorded (the runner stopped the case first)", id: "O3", edit: (c) => (c.checks = []), outcome: "xfail", bug: "erofs-remount-inode-share-null-domain" },
  { name: "O3 oops with its root check seen otherwise", id: "O3", edit: (c) => (c.checks.find((k) => k.name.startsWith("a remount"))!.seen = "remount ok, listed false"), outcome: "fail" },
  { name: "L2 without the busy-inodes report (BUG and WARNING alone)", id: "L2", edit: (c) => (c.crashes = c.crashes.filter((x) => x.kind !== "busy_inodes")), outcome: "fail" },
  { name: "L2 with the BUG at another line of fs/super.c", id: "L2", edit: (c) => (c.crashes.find((x) => x.kind === "bug")!.title = "kernel BUG at fs/super.c:700!"), outcome: "fail" },
  { name: "L2's reports in L1 (the same race)", id: "L2", edit: (c) => ((c.id = "L1"), (c.name = "x")), outcome: "xfail", bug: "erofs-ishare-unmount-busy-inodes-race" },
  { name: "L2's reports in F1 (not registered for F1)", id: "L2", edit: (c) => ((c.id = "F1"), (c.name = "x")), outcome: "fail" },
  { name: "O3 that passes on the affected kernel", id: "O3", edit: (c) => ((c.outcome = "pass"), (c.crashes = []), c.checks.forEach((k) => (k.ok = true))), outcome: "xpass", bug: "erofs-remount-inode-share-null-domain" },
  { name: "L2 that passes (race did not fire)", id: "L2", edit: (c) => ((c.outcome = "pass"), (c.crashes = [])), outcome: "xpass", bug: RACES },
  { name: "F1 passes: no bug registered for it", id: "F1", outcome: "pass" },
  { name: "O3 on 7.3.0: not an affected version", id: "O3", kernel: { release: "7.3.0-1-amd64" }, outcome: "fail" },
  { name: "O3 pass on 7.3.0 stays pass", id: "O3", kernel: { release: "7.3.0-1-amd64" }, edit: (c) => ((c.outcome = "pass"), (c.crashes = [])), outcome: "pass" },
  {
    name: "O3 without CONFIG_EROFS_FS_PAGE_CACHE_SHARE: not affected",
    id: "O3",
    kernel: { config: { ...recorded.kernel.config, CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "n" } },
    outcome: "fail",
  },
  { name: "D2 recorded with its variants (bs2048 among them)", id: "D2", edit: (c) => (c.variants = ["bs512", "bs2048"]), outcome: "xfail", bug: "erofs-ishare-inline-tail-zeros-bs2048" },
  { name: "D2 passing with bs2048 among its variants", id: "D2", edit: (c) => ((c.variants = ["bs2048"]), (c.outcome = "pass"), (c.crashes = []), c.checks.forEach((k) => (k.ok = true))), outcome: "xpass", bug: "erofs-ishare-inline-tail-zeros-bs2048" },
  { name: "D2 passing without bs2048 among its variants: not evidence of a fix", id: "D2", edit: (c) => ((c.variants = ["lz4", "zstd"]), (c.outcome = "pass"), (c.crashes = []), c.checks.forEach((k) => (k.ok = true))), outcome: "pass" },
  { name: "D2's failure in a run without bs2048 is not that bug", id: "D2", edit: (c) => (c.variants = ["lz4"]), outcome: "fail" },
  { name: "an error is never changed", id: "O3", edit: (c) => (c.outcome = "error"), outcome: "error" },
  { name: "a timeout is never changed", id: "L2", edit: (c) => (c.outcome = "timeout"), outcome: "timeout" },
];

describe("the verdict per case (registered bugs of known-bugs/)", () => {
  it.each(rows)("$name -> $outcome", (row) => {
    const c = caseOf(row.id);
    row.edit?.(c);
    const kernel = { ...recorded.kernel, ...row.kernel };
    const before = structuredClone(c);
    const after = applyToCase(c, kernel, bugs);
    expect(after.outcome).toBe(row.outcome);
    expect(c).toEqual(before); // the input is not modified
    if (row.bug) expect(after.knownBugs?.map((b) => b.id)).toEqual([row.bug].flat());
    else expect(after.knownBugs).toBeUndefined();
    if (after.outcome !== before.outcome || after.knownBugs === undefined && row.outcome === "fail" && after.reason?.includes("not known bug")) expect(after.rawOutcome).toBe(before.outcome);
    // what was failed is still all there
    expect(after.checks).toEqual(before.checks);
    expect(after.crashes).toEqual(before.crashes);
  });

  it("says why a failure is not the known bug", () => {
    const c = caseOf("O3");
    c.checks.push(extraCheck);
    expect(applyToCase(c, recorded.kernel, bugs).reason).toMatch(/not known bug erofs-remount-inode-share-null-domain: check "an unrelated expectation" \(seen 2\)/);
    const l2 = caseOf("L2");
    l2.crashes = l2.crashes.filter((x) => x.kind !== "busy_inodes");
    expect(applyToCase(l2, recorded.kernel, bugs).reason).toMatch(/required by known bug erofs-ishare-unmount-busy-inodes-race, not seen/);
  });

  it("says xpass loudly: fixed? update the file; a race only did not fire", () => {
    const o3 = caseOf("O3");
    o3.outcome = "pass";
    expect(applyToCase(o3, recorded.kernel, bugs).reason).toBe("known bug erofs-remount-inode-share-null-domain did not show: fixed? update known-bugs/erofs-remount-inode-share-null-domain.yaml");
    const l2 = caseOf("L2");
    l2.outcome = "pass";
    expect(applyToCase(l2, recorded.kernel, bugs).reason).toBe(RACES.map((r) => `race ${r} did not fire this time`).join("; "));
  });
});

describe("applyKnownBugs over a run", () => {
  it("7.2.13 built from Debian's linux-source (no modules, WARNING instead of BUG at fs/super.c:639): L3, D2, O3 xfail, L1 xpass", () => {
    const built = JSON.parse(readFileSync(new URL("../fixtures/runs/source-7.2.13-l1-l3-d2-o3.json", import.meta.url), "utf8")) as RunResult;
    expect(built.kernel.release).toBe("7.2.13-pcshare");
    const run = applyKnownBugs(built, bugs);
    expect(run.cases.map((c) => [c.id, c.outcome, c.knownBugs?.map((b) => b.id)])).toEqual([
      ["L1", "xpass", RACES],
      ["L3", "xfail", ["erofs-ishare-unmount-busy-inodes-race"]],
      ["D2", "xfail", ["erofs-ishare-inline-tail-zeros-bs2048"]],
      ["O3", "xfail", ["erofs-remount-inode-share-null-domain"]],
    ]);
    expect(crashFunction(built.cases[1].crashes[0])).toBe("generic_shutdown_super");
  });

  it("turns the recorded run into pass, xfail x3 and lists the bugs for this kernel", () => {
    const run = applyKnownBugs(recorded, bugs);
    expect(run.cases.map((c) => [c.id, c.outcome])).toEqual([
      ["F1", "pass"],
      ["L2", "xfail"],
      ["D2", "xfail"],
      ["O3", "xfail"],
    ]);
    expect(run.knownBugs?.map((b) => b.id).sort()).toEqual(bugs.map((b) => b.id).sort());
    expect(applyKnownBugs(run, bugs)).toEqual(run); // applying twice changes nothing
  });

  it("the race as --repeat caught it: L1 with the BUG inside the busy-inodes report, L3 with the reader's oops in erofs_map_dev interleaved", () => {
    const race = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-race-l1-l3.json", import.meta.url), "utf8")) as RunResult;
    expect(applyKnownBugs(race, bugs).cases.map((c) => [c.id, c.outcome])).toEqual([["L1", "xfail"], ["L3", "xfail"]]);
    const other = structuredClone(race);
    other.cases[1].crashes[0].excerpt += "\n[   41.6] RIP: 0010:ext4_readahead+0x10/0x20";
    expect(applyKnownBugs(other, bugs).cases[1].outcome).toBe("fail"); // a function the race does not go through
  });

  it("lists no bugs on a kernel none is registered for, and changes nothing", () => {
    const other = { ...recorded, kernel: { ...recorded.kernel, release: "6.12.48+deb13-amd64" } };
    const run = applyKnownBugs(other, bugs);
    expect(run.knownBugs).toEqual([]);
    expect(run.cases).toEqual(other.cases);
  });

  it("with a bug that requires two crashes, one of them is not enough", () => {
    const two: KnownBug = parseKnownBug("two.yaml", TWO_CRASHES);
    const c = caseOf("O3");
    expect(applyToCase(c, recorded.kernel, [two]).outcome).toBe("fail");
    c.crashes.push({ kind: "warning", title: "WARNING: fs/x.c:1 at f+0x1/0x2, CPU#0: a/1", excerpt: "RIP: 0010:f+0x1/0x2" });
    expect(applyToCase(c, recorded.kernel, [two]).outcome).toBe("xfail");
  });
});

const TWO_CRASHES = `
id: two
title: two crashes
cases: [O3]
kernels: [{ versions: "7.2.x" }]
signature:
  crashes:
    - { kind: bug, function: strlen }
    - { kind: warning, function: f }
  checks:
    - { name: "a remount without domain_id did not leave inode_share on", seen: "remount ok, listed true" }
    - { name: "after remount,inode_share: /big-link reads the source's bytes", seen: ".*" }
reproducer: x
evidence: [{ run: r, kernel: k, date: "2026-01-01", excerpt: e }]
`;

describe("tallyKnownBugs", () => {
  it("counts per bug the results of its cases that hit it, passed, and ran (skips and other bugs' cases left out)", () => {
    const built = JSON.parse(readFileSync(new URL("../fixtures/runs/source-7.2.13-l1-l3-d2-o3.json", import.meta.url), "utf8")) as RunResult;
    const skipped: CaseResult = { ...structuredClone(built.cases[0]), id: "V2", outcome: "skip", reason: "not run" };
    const run = applyKnownBugs({ ...built, cases: [...built.cases, skipped] }, bugs);
    const tally = Object.fromEntries(tallyKnownBugs(run).map((t) => [t.id, t]));
    expect(tally["erofs-ishare-unmount-busy-inodes-race"]).toEqual({
      id: "erofs-ishare-unmount-busy-inodes-race",
      file: "erofs-ishare-unmount-busy-inodes-race.yaml",
      race: true,
      hits: 1, // L3
      passes: 1, // L1
      runs: 2, // V2 skipped
      otherBugs: 0,
    });
    expect(tally["erofs-remount-inode-share-null-domain"]).toMatchObject({ race: false, hits: 1, passes: 0, runs: 1 });
    expect(tally["erofs-ishare-inline-tail-zeros-bs2048"]).toMatchObject({ race: false, hits: 1, passes: 0, runs: 1 });
    expect(tallyKnownBugs({ ...run, knownBugs: undefined })).toEqual([]);
  });

  it("counts a result its bug's case failed as another registered bug (the race's other shape) apart", () => {
    const [busy, evicts] = RACES;
    const run = applyKnownBugs(recorded, bugs);
    const l2 = run.cases.find((c) => c.id === "L2")!;
    const asOther = { ...l2, knownBugs: l2.knownBugs!.map((k) => ({ ...k, id: evicts })) };
    const asBoth = { ...l2, knownBugs: [...l2.knownBugs!, { ...l2.knownBugs![0], id: evicts }] };
    const tally = (cases: CaseResult[]) => tallyKnownBugs({ ...run, cases }).find((t) => t.id === busy)!;
    expect(tally([l2])).toMatchObject({ hits: 1, otherBugs: 0 });
    expect(tally([asOther])).toMatchObject({ hits: 0, otherBugs: 1, runs: 1 });
    expect(tally([asBoth])).toMatchObject({ hits: 1, otherBugs: 0 });
    expect(tally([{ ...asOther, outcome: "fail" }])).toMatchObject({ hits: 0, otherBugs: 0 });
  });
});

describe("the run as the kernel left it (withoutKnownBugs)", () => {
  it("gives each case its raw outcome and reason back, without bug matches", () => {
    const run = applyKnownBugs(recorded, bugs);
    const back = withoutKnownBugs(run);
    expect(back.knownBugs).toBeUndefined();
    expect(back.cases.map((c) => [c.id, c.outcome, c.reason, c.knownBugs])).toEqual(recorded.cases.map((c) => [c.id, c.outcome, c.reason, undefined]));
    // A case the layer never touched comes back as it is (the same object).
    const f1 = run.cases.find((c) => c.id === "F1")!;
    expect(withoutKnownBugsCase(f1)).toBe(f1);
  });

  it("restores an empty raw reason as none, and takes the layer's wording off results written without rawReason", () => {
    const o3 = applyKnownBugs(recorded, bugs).cases.find((c) => c.id === "O3")!;
    expect(withoutKnownBugsCase({ ...o3, rawReason: "" }).reason).toBeUndefined();
    const { rawReason: _r, ...legacy } = o3;
    expect(withoutKnownBugsCase({ ...legacy, reason: "known bug x: the oops [not known bug y: reasons\nover lines]" }).reason).toBe("the oops");
    expect(withoutKnownBugsCase({ ...legacy, rawOutcome: "pass", reason: "known bug x did not show" })).not.toHaveProperty("reason");
    expect(withoutKnownBugsCase({ ...legacy, reason: undefined }).reason).toBeUndefined();
  });
});

describe("the registered bugs a run lists", () => {
  it("carry their variants and link only when the bug has them", () => {
    const run = applyKnownBugs(recorded, bugs);
    const listed = Object.fromEntries(run.knownBugs!.map((b) => [b.id, b]));
    expect(listed["erofs-ishare-inline-tail-zeros-bs2048"].variants).toEqual(bugs.find((b) => b.id === "erofs-ishare-inline-tail-zeros-bs2048")!.variants);
    expect(listed["erofs-remount-inode-share-null-domain"]).not.toHaveProperty("variants");
    expect(listed["erofs-remount-inode-share-null-domain"]).not.toHaveProperty("link");
    const linked = bugs.map((b) => (b.id === "erofs-remount-inode-share-null-domain" ? { ...b, link: "https://lore.kernel.org/x" } : b));
    expect(applyKnownBugs(recorded, linked).knownBugs!.find((b) => b.id === "erofs-remount-inode-share-null-domain")!.link).toBe("https://lore.kernel.org/x");
  });
});

describe("exit status", () => {
  it("xfail never fails a run; xpass only with --strict", async () => {
    const { failingOutcomes } = await import("../../harness/report/model.ts");
    expect([...failingOutcomes(false)].sort()).toEqual(["error", "fail", "missing", "timeout"]);
    expect([...failingOutcomes(true)].sort()).toEqual(["error", "fail", "missing", "timeout", "xpass"]);
    expect(failingOutcomes(true).has("xfail")).toBe(false);
  });
});
