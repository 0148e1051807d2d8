// Tests of the KTAP reporter: a golden document for a small run, plan/result counts and the
// directive of every outcome, and sanitizing of names and diagnostics.
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../harness/report/model.ts";
import { KTAP_STATUS, ktapDiagnostics, ktapResultLine, ktapTotals, renderKtap } from "../../harness/report/ktap.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

describe("ktap", () => {
  it("prints a small run exactly (golden)", () => {
    const run = makeRun([
      makeCase({
        id: "F1",
        name: "same-domain",
        outcome: "pass",
        checks: [{ name: "same pfn", ok: true }],
        measurements: [{ name: "shared_pages", value: 256, unit: "pages" }],
      }),
      makeCase({
        id: "F2",
        name: "other domain # isolated",
        outcome: "fail",
        reason: "frames shared",
        checks: [{ name: "pfn differs", ok: false, expected: "A != B", seen: "A == B" }],
      }),
      makeCase({ id: "F3", name: "needs-debug", outcome: "skip", reason: "CONFIG_KASAN not set" }),
      makeCase({ id: "B1", name: "known-bug", outcome: "xfail", reason: "known leak" }),
      makeCase({
        id: "S1",
        name: "race",
        outcome: "timeout",
        reason: "300 seconds",
        crashes: [{ kind: "warning", title: "WARNING: CPU: 0 PID: 1 at fs/erofs/x.c:1", excerpt: "..." }],
        findings: ["slow\nunder TCG"],
      }),
    ]);
    expect(renderKtap(run)).toBe(
      [
        "KTAP version 1",
        "1..5",
        "# measure shared_pages=256 pages",
        "ok 1 F1_same-domain",
        "# reason: frames shared",
        "# check failed: pfn differs: expected A != B, seen A == B",
        "not ok 2 F2_other_domain_isolated",
        "ok 3 F3_needs-debug # SKIP CONFIG_KASAN not set",
        "ok 4 B1_known-bug # XFAIL known leak",
        "# crash warning: WARNING: CPU: 0 PID: 1 at fs/erofs/x.c:1",
        "# finding: slow under TCG",
        "not ok 5 S1_race # TIMEOUT 300 seconds",
        "# Totals: pass:1 fail:1 xfail:1 xpass:0 skip:1 error:1",
        "",
      ].join("\n"),
    );
  });

  it("has a plan equal to the number of cases and one result line each, numbered 1..N", () => {
    const run = fullRun();
    const lines = renderKtap(run).trimEnd().split("\n");
    expect(lines[0]).toBe("KTAP version 1");
    expect(lines[1]).toBe(`1..${run.cases.length}`);
    const results = lines.filter((l) => /^(not )?ok \d+ /.test(l));
    expect(results).toHaveLength(run.cases.length);
    results.forEach((l, i) => expect(l).toMatch(new RegExp(`^(not )?ok ${i + 1} `)));
    // every other line is a diagnostic (or the header)
    for (const l of lines.slice(2)) expect(l === "#" || l.startsWith("# ") || /^(not )?ok \d+ /.test(l)).toBe(true);
    expect(lines.at(-1)).toBe("# Totals: pass:1 fail:1 xfail:1 xpass:1 skip:1 error:2");
  });

  it("maps every outcome to the expected ok/not ok and directive", () => {
    const expected: Record<string, RegExp> = {
      pass: /^ok 1 X1_c$/,
      fail: /^not ok 1 X1_c$/,
      skip: /^ok 1 X1_c # SKIP why$/,
      xfail: /^ok 1 X1_c # XFAIL why$/,
      xpass: /^ok 1 X1_c # XPASS why$/, // as kselftest.h prints it; fails a run only with --strict
      error: /^not ok 1 X1_c # ERROR why$/,
      timeout: /^not ok 1 X1_c # TIMEOUT why$/,
      missing: /^not ok 1 X1_c # ERROR MISSING: why$/,
    };
    for (const o of OUTCOMES) {
      expect(KTAP_STATUS[o]).toBeDefined();
      const reason = o === "pass" || o === "fail" ? undefined : "why";
      const text = renderKtap(makeRun([makeCase({ id: "X1", name: "c", outcome: o, reason })]));
      const line = text.split("\n").find((l) => /^(not )?ok 1/.test(l));
      expect(line, o).toMatch(expected[o]);
    }
  });

  it("keeps control characters and newlines out of every line", () => {
    const run = makeRun([
      makeCase({ id: "E1", name: "multi\nline\tname", outcome: "error", reason: "boom\x00\nsecond line", findings: ["a\x1b[31mred"] }),
    ]);
    const text = renderKtap(run);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text).toContain("not ok 1 E1_multi_line_name # ERROR boom second line");
    expect(text).toContain("# finding: ared");
  });

  it("names repeated cases apart", () => {
    const run = makeRun([0, 1].map((repeat) => makeCase({ id: "F1", name: "x", outcome: "pass", repeat })));
    expect(renderKtap(run)).toContain("ok 1 F1_x_r0\nok 2 F1_x_r1\n");
  });
});

describe("ktap diagnostics", () => {
  const diag = (c: Parameters<typeof makeCase>[0]) => ktapDiagnostics(makeCase(c));

  it("gives the reason only for a failure (the directive carries it otherwise)", () => {
    expect(diag({ id: "D1", name: "d", outcome: "fail", reason: "two\nlines" })).toEqual(["# reason: two lines"]);
    for (const outcome of ["skip", "xfail", "xpass", "error", "timeout", "pass"] as const) expect(diag({ id: "D1", name: "d", outcome, reason: "r" }), outcome).toEqual([]);
    expect(diag({ id: "D1", name: "d", outcome: "fail" })).toEqual([]);
  });

  it("prints failed checks with what of expected and seen there is, and skips passed ones", () => {
    expect(
      diag({
        id: "D2",
        name: "d",
        outcome: "fail",
        checks: [
          { name: "both", ok: false, expected: "1", seen: "2" },
          { name: "expected only", ok: false, expected: "1" },
          { name: "seen only", ok: false, seen: "2" },
          { name: "bare", ok: false },
          { name: "passed", ok: true, expected: "1", seen: "1" },
        ],
      }),
    ).toEqual([
      "# check failed: both: expected 1, seen 2",
      "# check failed: expected only: expected 1",
      "# check failed: seen only: seen 2",
      "# check failed: bare",
    ]);
  });

  it("prints measurements with series and x, spaces in names folded to underscores", () => {
    expect(
      diag({
        id: "D3",
        name: "d",
        outcome: "pass",
        measurements: [
          { name: "page cache", value: 1.23456, unit: "MiB", series: "shared", x: 4 },
          { name: "t", value: 0, unit: "ms", x: 0 },
          { name: "n", value: 3, unit: "" },
        ],
      }),
    ).toEqual(["# measure page_cache=1.235 MiB series=shared x=4", "# measure t=0 ms x=0", "# measure n=3"]);
  });

  it("keeps blank lines of a diagnostic as a bare '#', and trailing blanks off", () => {
    expect(diag({ id: "D4", name: "d", outcome: "pass", crashes: [{ kind: "bug", title: "t", excerpt: "" }], findings: ["f  "] })).toEqual([
      "# crash bug: t",
      "# finding: f",
    ]);
    expect(diag({ id: "D4", name: "d", outcome: "fail", reason: "   " })).toEqual(["# reason:"]);
  });
});

describe("ktap variants", () => {
  it("names the variants a case ran first, and nothing for a case without", () => {
    const c = makeCase({ id: "D5", name: "x", outcome: "fail", reason: "lz4: shared", variants: ["lz4", "zstd"] });
    expect(ktapDiagnostics(c)[0]).toBe("# variants: lz4, zstd");
    expect(ktapDiagnostics(makeCase({ id: "F1", name: "x", outcome: "fail", reason: "r" })).some((l) => l.includes("variants"))).toBe(false);
  });
});

describe("ktap result lines", () => {
  it("prints the directive without a reason when there is none", () => {
    expect(ktapResultLine(makeCase({ id: "R1", name: "r", outcome: "skip" }), 7)).toBe("ok 7 R1_r # SKIP");
    expect(ktapResultLine(makeCase({ id: "R1", name: "r", outcome: "pass", reason: "ignored" }), 1)).toBe("ok 1 R1_r");
    expect(ktapResultLine(makeCase({ id: "R1", name: "r", outcome: "fail", reason: "in diagnostics" }), 2)).toBe("not ok 2 R1_r");
  });

  it("counts every outcome in the totals line, timeouts as errors", () => {
    const run = makeRun(
      (["pass", "pass", "fail", "skip", "xfail", "xpass", "error", "timeout", "timeout"] as const).map((outcome, i) => makeCase({ id: `T${i}`, name: "t", outcome })),
    );
    expect(ktapTotals(run)).toBe("# Totals: pass:2 fail:1 xfail:1 xpass:1 skip:1 error:3");
    expect(ktapTotals(makeRun([]))).toBe("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0");
    expect(renderKtap(makeRun([]))).toBe("KTAP version 1\n1..0\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
  });
});

describe("ktap known bugs", () => {
  it("names each registered bug a case matched, with its file, link and whether it is a race", () => {
    const bug = { id: "b1", title: "busy\ninodes", file: "b1.yaml", version: 1, race: true, matched: [], link: "https://lore.kernel.org/x" };
    const plain = { id: "b2", title: "tail zeros", file: "b2.yaml", version: 1, race: false, matched: [] };
    expect(ktapDiagnostics(makeCase({ id: "K1", name: "k", outcome: "xfail", knownBugs: [bug, plain] }))).toEqual([
      "# known bug b1 (race): busy inodes [known-bugs/b1.yaml https://lore.kernel.org/x]",
      "# known bug b2: tail zeros [known-bugs/b2.yaml]",
    ]);
  });
});
