// `pcshare b4-check` speaks b4's check-command protocol (a message on stdin, a JSON array of
// {tool, status, summary, url, details} on stdout). b4 itself cannot be installed here, so the tests
// play its part: a two-patch series whose second patch does not apply to a small tree (no build, no
// boot) gives one fail entry naming that patch and hunk; a cover letter without a series gives [];
// and the verdicts of real recorded comparisons map to pass, warn and fail.
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { comparisonResult, renderB4, type B4Result } from "../../harness/b4/check.ts";
import { compareSamples } from "../../harness/report/compare.ts";
import { readResults } from "../../harness/report/index.ts";
import type { RunResult } from "../../harness/report/model.ts";

const PCSHARE = path.resolve("bin/pcshare");
let dir: string;
let tree: string;

const LINES = ["int a;", "int b;", "int c;", "int d;", "int e;", "int f;", "int g;"];

function mail(n: number, subject: string, diff: string): string {
  return `From 000000000000000000000000000000000000000${n} Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@example.org>\nSubject: [PATCH ${n}/2] ${subject}\nMessage-Id: <p${n}@example.org>\n\nWhy.\n---\n${diff}\n-- \n2.47.0\n\n`;
}

const GOOD = `diff --git a/fs/erofs/x.c b/fs/erofs/x.c
--- a/fs/erofs/x.c
+++ b/fs/erofs/x.c
@@ -1,3 +1,3 @@
 int a;
-int b;
+int b2;
 int c;
`;
const BAD = `diff --git a/fs/erofs/x.c b/fs/erofs/x.c
--- a/fs/erofs/x.c
+++ b/fs/erofs/x.c
@@ -4,3 +4,3 @@ int c;
 int d;
-int nothing_like_this;
+int e2;
 int f;
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pcshare-b4-test-"));
  tree = path.join(dir, "linux");
  await mkdir(path.join(tree, "scripts/kconfig"), { recursive: true });
  await mkdir(path.join(tree, "fs/erofs"), { recursive: true });
  for (const f of ["Makefile", "Kconfig", "scripts/kconfig/merge_config.sh"]) await writeFile(path.join(tree, f), "# stand-in\n");
  await writeFile(path.join(tree, "fs/erofs/x.c"), LINES.join("\n") + "\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const b4check = (input: string, env: Record<string, string> = {}) =>
  execa(PCSHARE, ["b4-check", "--tree", tree, "--only", "F1"], { input, reject: false, env: { PCSHARE_QUIET: "1", ...env } });

function protocolShape(out: unknown): B4Result[] {
  expect(Array.isArray(out)).toBe(true);
  for (const r of out as Record<string, unknown>[]) {
    expect(Object.keys(r).every((k) => ["tool", "status", "summary", "url", "details"].includes(k))).toBe(true);
    expect(typeof r.tool).toBe("string");
    expect(["pass", "warn", "fail"]).toContain(r.status);
  }
  return out as B4Result[];
}

describe("pcshare b4-check", () => {
  it("answers a series that does not apply with one fail entry naming the patch and hunk, before any build", async () => {
    const r = await b4check(mail(1, "erofs: rename b", GOOD) + mail(2, "erofs: rename e", BAD));
    expect(r.exitCode).toBe(0);
    const [entry, ...rest] = protocolShape(JSON.parse(r.stdout));
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ tool: "pcshare", status: "fail", summary: 'patch 2/2 "erofs: rename e" does not apply' });
    expect(entry.details).toContain("fs/erofs/x.c: hunk #1 @@ -4,3 +4,3 @@");
    expect(r.stderr).not.toContain("building"); // refused before a kernel was built
  });

  it("has nothing to report for a cover letter without a series range", async () => {
    const cover = "From: Dev <dev@example.org>\nSubject: [PATCH 0/2] erofs: renames\nMessage-Id: <c@example.org>\n\nTwo renames.\n";
    const r = await b4check(cover);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toContain("nothing to report");
  });
});

describe("b4 verdict of a comparison", () => {
  let a: RunResult, b: RunResult;
  beforeAll(async () => {
    [a, b] = await Promise.all(["a", "b"].map((s) => readResults(`test/fixtures/runs/sid-7.2.13-noisy-repeat5-${s}.json`)));
  });
  const cmp = (x: RunResult, y: RunResult) => compareSamples({ runs: [x], files: ["baseline"] }, { runs: [y], files: ["patched"] });

  it("is pass when nothing changed, warn when items stay inconclusive, fail on a change for the worse or missing runs", () => {
    const same = comparisonResult(cmp(a, a), 0, "file:///r/comparison.md");
    expect(same).toMatchObject({ tool: "pcshare", status: "pass", url: "file:///r/comparison.md" });
    expect(same.details).toContain("verdict: ok");
    const noisy = comparisonResult(cmp(a, b), 0);
    expect(noisy.status).toBe("warn");
    expect(noisy.summary).toMatch(/^no significant change for the worse; 4 item\(s\) inconclusive: /);
    const worse = (r: RunResult, v?: number): RunResult => ({
      ...r,
      cases: r.cases.map((c) => (c.id !== "F1" ? c : { ...c, measurements: c.measurements.map((m) => (m.name === "equal_frames" ? { ...m, better: "higher" as const, value: v ?? m.value } : m)) })),
    });
    const failed = comparisonResult(cmp(worse(a), worse(a, 0)), 0);
    expect(failed.status).toBe("fail");
    expect(failed.summary).toBe("1 significant change(s) for the worse: WORSE F1 equal_frames");
    expect(comparisonResult(cmp(a, a), 3)).toMatchObject({ status: "fail", summary: "3 case run(s) missing: the comparison is incomplete" });
    expect(protocolShape(JSON.parse(renderB4([same, noisy, failed])))).toHaveLength(3);
  });
});
