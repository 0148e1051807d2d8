// Tests of the details of known-bug matching: which function and call trace a crash report shows
// (timestamps, caller ids, interleaved reports of other CPUs), how a signature's parts match (function
// lists, callers, whole-text patterns, checks by name), which kernels a bug is registered for, the
// reasons a user reads, and the per-bug tally. Bugs are registered through the real loader
// (parseKnownBug) from small YAML texts; reports are the kernel's own text, cut to what matters.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult, CrashReport, KernelInfo, RunResult } from "../../harness/report/model.ts";
import {
  affects,
  applyKnownBugs,
  applyToCase,
  callTrace,
  checkMatches,
  crashFunction,
  crashFunctions,
  crashMatches,
  releaseVersion,
  tallyKnownBugs,
} from "../../harness/verdict/known-bugs.ts";
import { parseKnownBug } from "../../harness/verdict/load-known-bugs.ts";
import type { KnownBug } from "../../harness/verdict/known-bug-schema.ts";

const recorded = JSON.parse(readFileSync(new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url), "utf8")) as RunResult;
const caseOf = (id: string): CaseResult => structuredClone(recorded.cases.find((c) => c.id === id)!);
const kernel: KernelInfo = recorded.kernel; // 7.2.13+deb14-amd64, CONFIG_EROFS_FS_PAGE_CACHE_SHARE=y

/** A bug registered through the loader (YAML is a superset of JSON); fields override a minimal O3 bug. */
function bug(fields: Record<string, unknown>): KnownBug {
  const base = {
    id: "b",
    title: "a bug",
    cases: ["O3"],
    kernels: [{ versions: "7.2.13" }],
    signature: { crashes: [{ kind: "bug", function: "strlen" }] },
    reproducer: "x",
    evidence: [{ run: "r", kernel: "k", date: "2026-01-01", excerpt: "e" }],
  };
  return parseKnownBug(`${String(fields.id ?? "b")}.yaml`, JSON.stringify({ ...base, ...fields }));
}

const warning = (title: string, excerpt: string): CrashReport => ({ kind: "warning", title, excerpt });
const failed = (name: string, seen?: string) => ({ name, ok: false, expected: "x", ...(seen !== undefined && { seen }) });
/** A failed O3 with exactly these failed checks and crashes. */
function o3With(checks: CaseResult["checks"], crashes: CrashReport[], reason?: string): CaseResult {
  return { ...caseOf("O3"), checks, crashes, reason };
}

describe("the function and call trace of a report", () => {
  const trace = [
    "[   41.000001] WARNING: fs/x.c:1 at f+0x1/0x2, CPU#0: t/1",
    "[   41.000002] RIP: 0010:f+0x1/0x2",
    "[   41.000003] Call Trace:",
    "[   41.000004]  <TASK>",
    "[   41.000005]  a+0x10/0x20 [erofs]",
    "[   41.000006]  ? b+0x10/0x20",
    "[   41.000007]  c.isra.0+0x1a/0x1c0",
    "[   41.000008]  </TASK>",
  ].join("\n");

  it("reads the frames after 'Call Trace:', with module names, without '?' frames", () => {
    expect(callTrace(warning("WARNING: fs/x.c:1 at f+0x1/0x2, CPU#0: t/1", trace))).toEqual(["a", "c.isra.0"]);
  });

  it("reads frames behind a caller id (CONFIG_PRINTK_CALLER), right after the time or after a blank", () => {
    const adjacent = "[   41.000001] WARNING: w\n[   41.000003][    T1] Call Trace:\n[   41.000005][    T1]  a+0x10/0x20\n[   41.000006][    T1]  c+0x10/0x20";
    expect(callTrace(warning("WARNING: w", adjacent))).toEqual(["a", "c"]);
    const spaced = "[   41.000001] WARNING: w\n[   41.000003] [    T1] Call Trace:\n[   41.000005] [    T1]  a+0x10/0x20\n[   41.000006] [    T1]  c+0x10/0x20";
    expect(callTrace(warning("WARNING: w", spaced))).toEqual(["a", "c"]);
  });

  it("has no call trace when the excerpt shows none", () => {
    const noTrace = "[    1.0] BUG: KASAN: slab-use-after-free in igrab+0x1a/0x80\n[    1.1]  a+0x10/0x20\n[    1.2] Read of size 8";
    expect(callTrace({ kind: "kasan", title: "BUG: KASAN: slab-use-after-free in igrab+0x1a/0x80", excerpt: noTrace })).toEqual([]);
  });

  it("leaves out what came before its own title and a frame of another CPU printed before its trace", () => {
    // The excerpt starts two lines before the title: here the end of an earlier report's trace.
    const excerpt = [
      "[   42.1] Call Trace:",
      "[   42.2]  earlier_fn+0x1/0x2",
      "[   42.3] WARNING: kernel/exit.c:914 at do_exit+0x934/0xb60, CPU#0: sha256sum/170",
      "[   42.4] RIP: 0010:do_exit+0x934/0xb60",
      "[   42.5]  other_cpu_fn+0x1/0x2",
      "[   42.6] Call Trace:",
      "[   42.7]  make_task_dead+0x8d/0x90",
    ].join("\n");
    const w = warning("WARNING: kernel/exit.c:914 at do_exit+0x934/0xb60, CPU#0: sha256sum/170", excerpt);
    expect(callTrace(w)).toEqual(["make_task_dead"]);
    expect(crashFunctions(w)).toEqual(["do_exit"]);
  });

  it("takes RIP lines from its own title on; every RIP line when the title is not in the excerpt", () => {
    const excerpt = "[ 1.0] RIP: 0010:earlier+0x1/0x2\n[ 1.1] BUG: kernel NULL pointer dereference, address: 0\n[ 1.2] RIP: 0010:mine+0x1/0x2";
    expect(crashFunctions({ kind: "bug", title: "BUG: kernel NULL pointer dereference, address: 0", excerpt })).toEqual(["mine"]);
    expect(crashFunctions({ kind: "bug", title: "BUG: not in the excerpt", excerpt })).toEqual(["earlier", "mine"]);
    const atStart = "[ 1.1] BUG: kernel NULL pointer dereference, address: 0\n[ 1.2] RIP: 0010:mine+0x1/0x2\n[ 1.3] RIP: 0010:next+0x1/0x2";
    expect(crashFunctions({ kind: "bug", title: "BUG: kernel NULL pointer dereference, address: 0", excerpt: atStart })).toEqual(["mine", "next"]);
  });

  it("names the function of a KASAN or KFENCE title, not of another kind's title", () => {
    expect(crashFunctions({ kind: "kfence", title: "BUG: KFENCE: use-after-free read in erofs_iget+0x1/0x2", excerpt: "" })).toEqual(["erofs_iget"]);
    const kasan = { kind: "kasan", title: "BUG: KASAN: slab-use-after-free in igrab+0x1a/0x80", excerpt: "RIP: 0010:kasan_report+0x1/0x2" };
    expect(crashFunctions(kasan)).toEqual(["igrab", "kasan_report"]);
    const gpf = { kind: "oops", title: "Oops: general protection fault in strlen+0x1/0x2", excerpt: "Oops: general protection fault in strlen+0x1/0x2\nRIP: 0010:strnlen+0x1/0x2" };
    expect(crashFunctions(gpf)).toEqual(["strnlen"]);
  });

  it("a WARNING without RIP line is named by its title's 'at fn+'; with one, by the RIP line only", () => {
    const title = "WARNING: fs/iomap/buffered-io.c:694 at iomap_readahead+0x218/0x350, CPU#0: t/1";
    expect(crashFunctions(warning(title, title))).toEqual(["iomap_readahead"]);
    expect(crashFunctions(warning(title, `${title}\nRIP: 0010:iomap_readahead_folio+0x1/0x2`))).toEqual(["iomap_readahead_folio"]);
    expect(crashFunctions(warning("WARNING: at x", "WARNING: at x"))).toEqual(["none"]);
  });

  it("a report that names no function matches a signature only through 'none'", () => {
    const busy = { kind: "busy_inodes", title: "VFS: Busy inodes after unmount of vda (erofs)", excerpt: "[ 1.0] VFS: Busy inodes after unmount of vda (erofs)" };
    expect(crashFunctions(busy)).toEqual(["none"]);
    expect(crashFunction(busy)).toBeUndefined();
    expect(crashMatches({ kind: "busy_inodes", function: "generic_shutdown_super", optional: false }, busy)).toBe(false);
    expect(crashMatches({ kind: "busy_inodes", function: ["none", "generic_shutdown_super"], optional: false }, busy)).toBe(true);
  });
});

describe("signature parts", () => {
  const o3 = caseOf("O3").crashes[0]; // RIP in strlen

  it("a signature function is a whole name, not a part of one", () => {
    expect(crashMatches({ kind: "bug", function: "strlen", optional: false }, o3)).toBe(true);
    expect(crashMatches({ kind: "bug", function: "strlen_user", optional: false }, o3)).toBe(false);
    expect(crashMatches({ kind: "bug", function: ["strlen_user"], optional: false }, o3)).toBe(false);
  });

  it("a signature without function matches by its title pattern, whatever the function", () => {
    expect(crashMatches({ kind: "bug", title: "BUG: kernel NULL pointer dereference, address: 0+", optional: false }, o3)).toBe(true);
    expect(crashMatches({ kind: "bug", title: "BUG: kernel NULL pointer dereference", optional: false }, o3)).toBe(false); // the whole title
  });

  it("a check matches by name and whole seen text, which may span lines", () => {
    const k = failed("listing", "line one\nline two");
    expect(checkMatches({ name: "listing", seen: "line one.*", optional: false }, k)).toBe(true);
    expect(checkMatches({ name: "listing", seen: "line one", optional: false }, k)).toBe(false);
    expect(checkMatches({ name: "another check", seen: ".*", optional: false }, k)).toBe(false);
    expect(checkMatches({ name: "listing", seen: ".*", optional: false }, { ...k, ok: true })).toBe(false);
  });

  it("a check that recorded no seen value is matched as empty text", () => {
    expect(checkMatches({ name: "c", seen: "x?", optional: false }, failed("c"))).toBe(true);
    expect(checkMatches({ name: "c", seen: "x", optional: false }, failed("c"))).toBe(false);
  });

  it("the same seen value under another check's name is not the bug", () => {
    const c = caseOf("O3");
    c.checks.find((k) => k.name.startsWith("a remount"))!.name = "a remount with domain_id kept it";
    expect(applyToCase(c, kernel, [bug({ signature: { crashes: [{ kind: "bug", function: "strlen" }], checks: [{ name: "a remount without domain_id did not leave inode_share on", seen: "remount ok, listed true", optional: true }, { name: "after remount,inode_share: /big-link reads the source's bytes", seen: ".*", optional: true }] } })]).outcome).toBe("fail");
  });
});

describe("kernels a bug is registered for", () => {
  const with_ = (release: string, config: Record<string, string> = kernel.config): KernelInfo => ({ ...kernel, release, config });

  it("reads the leading X.Y.Z of a release", () => {
    expect(releaseVersion("10.1.2-rc1")).toBe("10.1.2");
    expect(releaseVersion("custom-7.2.13")).toBeUndefined();
  });

  it("a release without a version is affected by no bug, and the run lists none", () => {
    const b = bug({ kernels: [{ versions: "*" }] });
    expect(affects(b, with_("custom"))).toBe(false);
    const run = applyKnownBugs({ ...recorded, kernel: with_("custom"), cases: [caseOf("O3")] }, [b]);
    expect(run.knownBugs).toEqual([]);
    expect(run.cases[0].outcome).toBe("fail");
  });

  it("any of the ranges: the second one alone is enough", () => {
    const b = bug({ kernels: [{ versions: "7.3.x" }, { versions: ">=7.2.0 <7.3.0" }] });
    expect(affects(b, with_("7.2.13+deb14-amd64"))).toBe(true);
    expect(affects(b, with_("7.4.1"))).toBe(false);
  });

  it("a config option the kernel's config does not list counts as n", () => {
    const { CONFIG_EROFS_FS_DEBUG: _dropped, ...config } = kernel.config;
    expect(affects(bug({ kernels: [{ versions: "7.2.13", config: { CONFIG_EROFS_FS_DEBUG: "n" } }] }), with_(kernel.release, config))).toBe(true);
    expect(affects(bug({ kernels: [{ versions: "7.2.13", config: { CONFIG_EROFS_FS_DEBUG: "y" } }] }), with_(kernel.release, config))).toBe(false);
  });
});

describe("what the user reads", () => {
  const nullDeref = bug({ id: "null-deref", title: "strlen of a NULL domain" });

  it("xfail: the bug id and the case's reason; the bug's title when the case gave none; what matched", () => {
    const c = o3With([], caseOf("O3").crashes, caseOf("O3").reason);
    const x = applyToCase(c, kernel, [nullDeref]);
    expect(x.reason).toBe(`known bug null-deref: ${c.reason}`);
    expect(x.knownBugs).toEqual([{ id: "null-deref", title: "strlen of a NULL domain", file: "null-deref.yaml", version: 1, race: false, matched: ['bug "BUG: kernel NULL pointer dereference, address: 0000000000000000" in strlen'] }]);
    expect(applyToCase({ ...c, reason: undefined }, kernel, [nullDeref]).reason).toBe("known bug null-deref: strlen of a NULL domain");
  });

  it("a failure two bugs explain together names both, in the order of the failure's parts (checks, then crashes)", () => {
    const two = [bug({ id: "one", signature: { crashes: [{ kind: "bug", function: "strlen" }] } }), bug({ id: "two", signature: { checks: [{ name: "a remount without domain_id did not leave inode_share on", seen: "remount ok, listed true" }] } })];
    const c = o3With([failed("a remount without domain_id did not leave inode_share on", "remount ok, listed true")], caseOf("O3").crashes, "r");
    const x = applyToCase(c, kernel, two);
    expect(x.outcome).toBe("xfail");
    expect(x.reason).toBe("known bug two, one: r");
    expect(x.knownBugs?.map((b) => [b.id, b.matched])).toEqual([
      ["two", ['check "a remount without domain_id did not leave inode_share on" (seen remount ok, listed true)']],
      ["one", ['bug "BUG: kernel NULL pointer dereference, address: 0000000000000000" in strlen']],
    ]);
  });

  it("fail: every part no bug explains, after the case's reason ('failed' without one), and every bug near it", () => {
    const busy = { kind: "busy_inodes", title: "VFS: Busy inodes after unmount of vda (erofs)", excerpt: "VFS: Busy inodes after unmount of vda (erofs)" };
    const c = o3With([failed("no seen value")], [caseOf("O3").crashes[0], busy, caseOf("D2").crashes[0]], "it broke");
    const near = [nullDeref, bug({ id: "other", signature: { checks: [{ name: "x", seen: "y" }] } })];
    expect(applyToCase(c, kernel, near).reason).toBe(
      'it broke [not known bug null-deref, other: check "no seen value" (seen ?); busy_inodes "VFS: Busy inodes after unmount of vda (erofs)"; ' +
        'warning "WARNING: fs/iomap/buffered-io.c:694 at iomap_readahead+0x218/0x350, CPU#0: pcshare-agent/114" in iomap_readahead]',
    );
    expect(applyToCase({ ...c, reason: undefined }, kernel, near).reason).toMatch(/^failed \[not known bug null-deref, other: /);
  });

  it("fail: each required part of a bug that was not seen, described by its name, kind, function and title", () => {
    const needsAll = bug({
      id: "needs-all",
      signature: {
        crashes: [{ kind: "bug", function: "strlen" }, { kind: "warning", function: "f", title: "WARNING: .*" }, { kind: "oops", title: "Oops: .*" }, { kind: "warning", function: "g" }, { kind: "panic", title: "p", optional: true }],
        checks: [{ name: "the remount check", seen: ".*" }],
      },
    });
    expect(applyToCase(o3With([], caseOf("O3").crashes, "r"), kernel, [needsAll]).reason).toBe(
      'r [not known bug needs-all: bug "BUG: kernel NULL pointer dereference, address: 0000000000000000" in strlen; ' +
        'check "the remount check", required by known bug needs-all, not seen; warning in f /WARNING: .*/, required by known bug needs-all, not seen; ' +
        "oops /Oops: .*/, required by known bug needs-all, not seen; warning in g, required by known bug needs-all, not seen]",
    );
  });

  it("fail: a failure that shows neither a failed check nor a crash report says so", () => {
    expect(applyToCase(o3With([], [], "exit 1"), kernel, [nullDeref]).reason).toBe("exit 1 [not known bug null-deref: the failure shows no failed check and no crash report (exit 1)]");
    expect(applyToCase(o3With([], []), kernel, [nullDeref]).reason).toBe("failed [not known bug null-deref: the failure shows no failed check and no crash report]");
  });

  it("xpass: one sentence per bug registered for the case; what matched is nothing", () => {
    const pass = { ...caseOf("O3"), outcome: "pass" as const, crashes: [], checks: [] };
    const x = applyToCase(pass, kernel, [nullDeref, bug({ id: "flaky", race: true })]);
    expect(x.reason).toBe("known bug null-deref did not show: fixed? update known-bugs/null-deref.yaml; race flaky did not fire this time");
    expect(x.knownBugs?.map((b) => b.matched)).toEqual([[], []]);
  });

  it("a case that did not run and pass is never an xpass", () => {
    for (const outcome of ["skip", "error", "timeout", "missing"] as const) {
      expect(applyToCase({ ...caseOf("O3"), outcome, crashes: [], checks: [] }, kernel, [nullDeref]).outcome).toBe(outcome);
    }
  });

  it("the bug's link goes with the case's and the run's bugs, only when it has one", () => {
    const linked = bug({ id: "linked", link: "https://lore.kernel.org/r/1" });
    const run = applyKnownBugs({ ...recorded, cases: [o3With([], caseOf("O3").crashes, "r")] }, [linked, nullDeref]);
    expect(run.cases[0].knownBugs).toEqual([{ id: "linked", title: "a bug", file: "linked.yaml", version: 1, race: false, link: "https://lore.kernel.org/r/1", matched: [expect.any(String)] }, expect.anything()]);
    expect(run.cases[0].knownBugs?.[1]).not.toHaveProperty("link");
    expect(run.knownBugs).toEqual([{ id: "linked", title: "a bug", file: "linked.yaml", version: 1, race: false, cases: ["O3"], link: "https://lore.kernel.org/r/1" }, expect.anything()]);
    expect(run.knownBugs?.[1]).not.toHaveProperty("link");
  });

  it("a failure already judged not the bug is left as it is when the layer runs again", () => {
    const c = o3With([failed("an unrelated expectation", "2")], caseOf("O3").crashes, "r");
    const once = applyToCase(c, kernel, [nullDeref]);
    expect(once.outcome).toBe("fail");
    expect(applyToCase(once, kernel, [nullDeref])).toEqual(once);
  });
});

describe("the tally of a bug counts only the results that name it", () => {
  const a = bug({ id: "a" });
  const b = bug({ id: "b" });
  const named = (outcome: "xfail" | "xpass", ids?: string[]): CaseResult => ({
    ...caseOf("O3"),
    outcome,
    ...(ids && { knownBugs: ids.map((id) => ({ id, title: "t", file: `${id}.yaml`, version: 1, race: false, matched: [] })) }),
  });

  it("a result naming two bugs counts for both; one naming a bug counts for none other of its case", () => {
    const run = { ...applyKnownBugs({ ...recorded, cases: [] }, [a, b]), cases: [named("xfail", ["a", "b"]), named("xfail", ["a"]), named("xpass", ["a", "b"]), named("xpass", ["a"])] };
    expect(tallyKnownBugs(run).map((t) => [t.id, t.hits, t.passes, t.runs])).toEqual([
      ["a", 2, 2, 4],
      ["b", 1, 1, 4],
    ]);
  });

  it("an xfail or xpass that names no bug (results of an older pcshare) counts for none", () => {
    const run = { ...applyKnownBugs({ ...recorded, cases: [] }, [a]), cases: [named("xfail"), named("xpass")] };
    expect(tallyKnownBugs(run)).toEqual([{ id: "a", file: "a.yaml", race: false, hits: 0, passes: 0, runs: 2, otherBugs: 0 }]);
  });

  it("a result of its case that failed as another registered bug counts as such, not as a hit", () => {
    const run = { ...applyKnownBugs({ ...recorded, cases: [] }, [a, b]), cases: [named("xfail", ["b"]), named("xfail", ["a"]), named("xpass", ["a", "b"])] };
    expect(tallyKnownBugs(run).map((t) => [t.id, t.hits, t.passes, t.runs, t.otherBugs])).toEqual([
      ["a", 1, 1, 3, 1],
      ["b", 1, 1, 3, 1],
    ]);
  });
});
