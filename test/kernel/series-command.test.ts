// Kernel options and `pcshare series` / `pcshare mutants` without booting anything: which options
// select a built kernel, how they reach builtKernel, the baseline/patched pair, mutant headers and the
// killed/survived verdict. The two resolveKernel tests use kernels the cache already holds (a cold
// cache builds them once; set PCSHARE_SKIP_BUILD_TESTS=1 to leave them out).
import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { addGuestOptions, kernelChoice, type GuestCliOptions } from "../../harness/cli/kernel-options.ts";
import { buildRequest, resolveKernel } from "../../harness/kernel/resolve.ts";
import { DEFAULT_FRAGMENTS } from "../../harness/kernel/build.ts";
import { budgetOption, DEFAULT_BUDGET_MIN, seriesChoices, seriesExitCode } from "../../harness/cli/series-command.ts";
import { expandId, judge, loadMutants, parseMutant } from "../../harness/cli/mutants-command.ts";
import { makeCase, makeRun } from "../report/fixtures.ts";

function parseGuest(argv: string[]): GuestCliOptions {
  const cmd = addGuestOptions(new Command("run").exitOverride());
  cmd.parse(argv, { from: "user" });
  return cmd.opts<GuestCliOptions>();
}

describe("kernel options", () => {
  it("without build options name no build", () => {
    const opts = parseGuest(["--kernel", "debian:trixie"]);
    expect(buildRequest(kernelChoice(opts))).toBeUndefined();
    expect(buildRequest({})).toBeUndefined();
  });

  it("--tree, --series, --debug and --fragment become a build request", () => {
    const opts = parseGuest(["--tree", "/src/linux", "--series", "v3.mbx", "--debug", "--fragment", "base", "share-off", "--memory", "512"]);
    expect(buildRequest(kernelChoice(opts))).toEqual({ tree: "/src/linux", series: "v3.mbx", debug: true, fragments: ["base", "share-off"] });
    expect(opts.memory).toBe("512");
  });

  it("any one build option alone selects a build from Debian's source", () => {
    expect(buildRequest({ series: "kernel-patches/test-series" })).toEqual({ series: "kernel-patches/test-series" });
    expect(buildRequest({ debug: true })).toEqual({ debug: true });
    expect(buildRequest({ tree: "." })).toEqual({ tree: "." });
    expect(buildRequest({ fragments: ["base,share-on"] })).toEqual({ fragments: ["base", "share-on"] });
    expect(buildRequest({ debug: false, fragments: [] })).toBeUndefined();
  });

  it("repeated --fragment accumulates", () => {
    const opts = parseGuest(["--fragment", "base", "--fragment", "debug"]);
    expect(kernelChoice(opts).fragments).toEqual(["base", "debug"]);
  });

  it("refuses --kernel or --modules together with a build", () => {
    expect(() => buildRequest({ kernel: "debian:sid", series: "x.patch" })).toThrow(/--kernel cannot be combined/);
    expect(() => buildRequest({ modules: "/m", kernelConfig: "/c", debug: true })).toThrow(/--modules, --kernel-config/);
  });
});

describe("pcshare series kernels", () => {
  it("baseline is a build of the same source without the series", () => {
    expect(seriesChoices("s.mbx", {})).toEqual({
      baseline: { debug: false, fragments: DEFAULT_FRAGMENTS },
      patched: { debug: false, fragments: DEFAULT_FRAGMENTS, series: "s.mbx" },
    });
    const c = seriesChoices("a..b", { tree: "/src", debug: true });
    expect(buildRequest(c.baseline)).toEqual({ tree: "/src", debug: true });
    expect(buildRequest(c.patched)).toEqual({ tree: "/src", debug: true, series: "a..b" });
  });
});

describe("pcshare series --budget", () => {
  it("takes minutes, defaults, and names a bad value", () => {
    expect(budgetOption(undefined)).toBe(DEFAULT_BUDGET_MIN);
    expect(budgetOption("2.5")).toBe(2.5);
    expect(() => budgetOption("0")).toThrow("--budget 0: expected a positive number of minutes");
    expect(() => budgetOption("ten")).toThrow(/--budget ten/);
  });
});

describe.skipIf(process.env.PCSHARE_SKIP_BUILD_TESTS === "1")("resolveKernel with build options (cached kernels)", () => {
  it("builds the unpatched kernel without a series record", async () => {
    const k = await resolveKernel({ fragments: DEFAULT_FRAGMENTS });
    expect(k.info.source).toMatch(/^debian-source:/);
    expect(k.info.series).toBeUndefined();
  }, 45 * 60_000);

  it("records the series' subjects, message ids, base and hash in KernelInfo", async () => {
    const k = await resolveKernel({ series: "kernel-patches/test-series" });
    expect(k.info.series).toMatchObject({ spec: "kernel-patches/test-series", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(k.info.series!.base).toMatch(/^\d/);
    expect(k.info.series!.patches).toEqual([{ subject: "erofs: print a pcshare marker at mount", messageId: "pcshare-test-series-1@pcshare.invalid" }]);
  }, 10 * 60_000);
});

describe("mutants", () => {
  it("reads Breaks, Killed-By (leading case ids) and the debug hint of every mutant", async () => {
    const all = await loadMutants("kernel-patches/mutants");
    expect(all.length).toBeGreaterThan(0);
    for (const m of all) expect(m.cases.length, m.name).toBeGreaterThan(0);
    const evict = all.find((m) => m.name === "list-entry-kept-on-evict")!;
    expect(evict.cases).toEqual(["L1", "M1"]);
    expect(evict.debug).toBe(true);
    expect(all.find((m) => m.name === "domain-left-out-of-key")!.cases).toEqual(["I1", "I3b"]);
  });

  it("takes a catalog id split into lettered parts as the parts", () => {
    const catalog = new Map([["I1", 1], ["I3a", 1], ["I3b", 1], ["I30", 1]]);
    expect(expandId("I1", catalog)).toEqual(["I1"]);
    expect(expandId("I3", catalog)).toEqual(["I3a", "I3b"]);
    expect(expandId("Z9", catalog)).toEqual(["Z9"]);
  });

  it("reads an Equivalent header and folded lines", () => {
    const m = parseMutant("x/typo.patch", "Subject: [PATCH] erofs: typo\n\nBreaks: nothing\n  at all.\nKilled-By: F1 same-domain\nEquivalent: comment only\n\n---\ndiff\n");
    expect(m).toMatchObject({ name: "typo", subject: "erofs: typo", breaks: "nothing at all.", cases: ["F1"], debug: false, equivalent: "comment only" });
  });

  it("is killed only by a case that passes on the baseline and fails on the mutant", () => {
    const base = makeRun([makeCase({ id: "F1", name: "a", outcome: "pass" }), makeCase({ id: "F2", name: "b", outcome: "fail" })]);
    const mut = makeRun([makeCase({ id: "F1", name: "a", outcome: "pass" }), makeCase({ id: "F2", name: "b", outcome: "fail" })]);
    expect(judge(["F1", "F2"], base, mut).verdict).toBe("survived");
    mut.cases[0] = makeCase({ id: "F1", name: "a", outcome: "error", reason: "boom" });
    expect(judge(["F1", "F2"], base, mut)).toMatchObject({ verdict: "killed", killer: "F1", cases: [{ id: "F1", baseline: "pass", mutant: "error", reason: "boom" }, { id: "F2" }] });
  });

  it("is not killed by a case the mutant's run never executed", () => {
    const base = makeRun([makeCase({ id: "F1", name: "a", outcome: "pass" })]);
    const mut = makeRun([makeCase({ id: "F1", name: "a", outcome: "missing", reason: "run aborted" })]);
    expect(judge(["F1"], base, mut).verdict).toBe("survived");
  });
});

describe("pcshare series exit status", () => {
  it("is 1 on new failures and also when either run has missing cases, else 0", () => {
    const ok = makeRun([makeCase({ id: "F1", name: "a", outcome: "pass" })]);
    const holed = makeRun([makeCase({ id: "F1", name: "a", outcome: "missing", reason: "run interrupted" })]);
    expect(seriesExitCode([ok, ok], false)).toBe(0);
    expect(seriesExitCode([ok, ok], true)).toBe(1);
    expect(seriesExitCode([holed, ok], false)).toBe(1);
    expect(seriesExitCode([ok, ok, ok, holed], false)).toBe(1);
  });
});
