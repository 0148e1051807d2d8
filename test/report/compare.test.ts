// The comparison as text, JSON and Markdown, and the compare command's two ways of naming its sides.
// Inputs: the recorded runs of this machine (test/fixtures/runs) and, for a change the recorded
// kernel does not show, a hand-built patched run (said so where used).
import { describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { compareRuns, compareSamples, formatComparison } from "../../harness/report/compare.ts";
import { renderComparisonMarkdown } from "../../harness/report/compare-markdown.ts";
import { compareCommand, compareSides } from "../../harness/cli/report-commands.ts";
import type { RunResult } from "../../harness/report/model.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/runs/${name}.json`, import.meta.url), "utf8")) as RunResult;
const A = fixture("sid-7.2.13-noisy-repeat5-a");
const B = fixture("sid-7.2.13-noisy-repeat5-b");

/** Hand-built: run B with F1's equal_frames 0 in every sample (declared better higher, as F1 now records it). */
function broken(): RunResult {
  const zero = (c: RunResult["cases"][number]) => ({ ...c, measurements: c.measurements.map((m) => (m.name === "equal_frames" ? { ...m, value: 0, better: "higher" as const } : m)) });
  return { ...B, cases: B.cases.map((c) => (c.id === "F1" ? zero(c) : c)) };
}

describe("compare on recorded runs of one kernel", () => {
  const cmp = compareSamples({ runs: [A], files: ["a.json"] }, { runs: [B], files: ["b.json"] });

  it("reports no significant change and does not fail", () => {
    expect(cmp.significant).toEqual([]);
    expect(cmp.fails).toBe(false);
    expect(cmp.baseline).toMatchObject({ files: ["a.json"], samples: 30 });
  });

  it("prints the significant changes first, then the inconclusive items, then the rest as a count", () => {
    const text = formatComparison(cmp);
    const at = (s: string) => text.indexOf(s);
    expect(at("significant: none")).toBeGreaterThan(0);
    expect(at("significant:")).toBeLessThan(at("inconclusive:"));
    expect(at("inconclusive:")).toBeLessThan(at("no change:"));
    expect(text).toMatch(/verdict: ok: no significant change for the worse/);
  });

  it("keeps the two-file form", () => {
    expect(compareRuns(A, A).significant).toEqual([]);
    expect(compareRuns(A, A).inconclusive).toEqual([]);
  });
});

describe("compare with a broken patched run (hand-built)", () => {
  const cmp = compareSamples({ runs: [A], files: ["a.json"] }, { runs: [broken()], files: ["b.json"] });

  it("fails on the exact figure gone worse and leads with it", () => {
    expect(cmp.fails).toBe(true);
    expect(cmp.significant[0]).toMatchObject({ type: "figure", id: "F1", figure: "equal_frames", direction: "worse" });
    const text = formatComparison(cmp);
    expect(text).toContain("WORSE       F1 equal_frames: 2048 (x5) -> 0 (x5) pages (-100 %)");
    expect(text).toMatch(/verdict: FAIL: 1 significant change\(s\) for the worse/);
  });

  it("renders the same in Markdown, verdict first", () => {
    const md = renderComparisonMarkdown(cmp);
    expect(md.indexOf("verdict: FAIL")).toBeLessThan(md.indexOf("## Significant changes (1)"));
    expect(md).toContain("| **WORSE** | F1 equal\\_frames |");
    expect(md.indexOf("## Significant")).toBeLessThan(md.indexOf("## Inconclusive"));
  });
});

describe("compare's sides", () => {
  it("takes BASELINE PATCHED or --baseline/--patched lists, and refuses a mix", () => {
    expect(compareSides(["a", "b"], {})).toEqual({ baseline: ["a"], patched: ["b"] });
    expect(compareSides([], { baseline: ["a1", "a2"], patched: ["b1"] })).toEqual({ baseline: ["a1", "a2"], patched: ["b1"] });
    expect(() => compareSides(["a"], {})).toThrow(/expected BASELINE PATCHED/);
    expect(() => compareSides(["a", "b"], { baseline: ["c"] })).toThrow(/not both/);
    expect(() => compareSides([], { baseline: ["c"] })).toThrow(/--baseline and --patched each/);
  });
});

describe("pcshare compare (command)", () => {
  const fixtureFile = (name: string) => new URL(`../fixtures/runs/${name}.json`, import.meta.url).pathname;

  it("exits 0 on the recorded runs, 1 on the broken one, and writes comparison.json and comparison.md", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-compare-"));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const bad = path.join(dir, "broken.json");
      await writeFile(bad, JSON.stringify(broken()));
      expect(await compareCommand([], { baseline: [fixtureFile("sid-7.2.13-noisy-repeat5-a")], patched: [fixtureFile("sid-7.2.13-noisy-repeat5-b")] })).toBe(0);
      expect(await compareCommand([fixtureFile("sid-7.2.13-noisy-repeat5-a"), bad], { out: dir })).toBe(1);
      expect(JSON.parse(await readFile(path.join(dir, "comparison.json"), "utf8")).fails).toBe(true);
      expect(await readFile(path.join(dir, "comparison.md"), "utf8")).toContain("## Significant changes (1)");
    } finally {
      log.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
