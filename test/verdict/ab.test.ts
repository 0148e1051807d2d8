// One real A/B on this machine: the default (prebuilt) kernel against itself, through the same
// adaptive rounds as `pcshare series` (one run a side, then the undecided cases again on both until
// decided or a 2.5-minute budget is spent), on F1 (exact page counts, a noisy Cached growth) and A4
// (noisy timings and a noisy slowdown %). An identical kernel must show no significant change,
// however noisy the host is while the test runs (on a loaded host fewer rounds fit the budget).
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveKernel } from "../../harness/kernel/resolve.ts";
import { adaptiveComparison } from "../../harness/cli/series-command.ts";
import { writeComparison } from "../../harness/report/compare.ts";
import { selectCases } from "../../harness/runner/select.ts";
import { ALL_CASES } from "../../cases/index.ts";

const out = await mkdtemp(path.join(os.tmpdir(), "pcshare-ab-"));
afterAll(() => rm(out, { recursive: true, force: true }));

describe("A/B of the default kernel against itself (real guests)", () => {
  it("finds no significant change and does not fail", async () => {
    const kernel = await resolveKernel();
    const cases = selectCases(ALL_CASES, { only: ["F1", "A4"] });
    const cmp = await adaptiveComparison({ kernels: { baseline: kernel, patched: kernel }, cases, outDir: out, budgetMs: 2.5 * 60_000 });
    const why = cmp.significant.map((i) => `${i.id} ${i.type === "figure" ? i.figure : "outcome"}: ${i.note}`);
    expect(why).toEqual([]);
    expect(cmp.fails).toBe(false);
    // Every case was judged from real samples on both sides, and exact figures agreed.
    expect(cmp.baseline.samples).toBeGreaterThanOrEqual(2);
    const f1 = cmp.unchanged.find((i) => i.type === "figure" && i.id === "F1" && i.figure === "equal_frames");
    expect(f1).toBeDefined();
    const [json] = await writeComparison(cmp, out);
    expect(JSON.parse(await readFile(json, "utf8")).schema).toBe("pcshare-comparison/2");
  }, 6 * 60_000);
});
