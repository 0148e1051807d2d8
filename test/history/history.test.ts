// The history database on recorded real runs (test/fixtures/runs: two 5-repeat runs of one kernel,
// one of a source-built kernel): appended and listed by kernel, read back faithfully enough that the
// A/B statistics give the same verdict, a trend chart, a planted regression found (and exit 1 from the
// CLI), and concurrent appends that all land.
import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults } from "../../harness/report/index.ts";
import { compareSamples } from "../../harness/report/compare.ts";
import type { RunResult } from "../../harness/report/model.ts";
import { openHistory, updateHistory } from "../../harness/history/store.ts";
import { insertRun, kernelKey, loadRun } from "../../harness/history/record.ts";
import { latestAgainstPrevious, listRuns, trendPoints } from "../../harness/history/query.ts";
import { trendChart } from "../../harness/history/trend.ts";
import { recordRun } from "../../harness/cli/history-command.ts";
import { mergeCommand } from "../../harness/cli/merge-command.ts";
import { writeResults } from "../../harness/report/index.ts";

const FIX = "test/fixtures/runs";
const META = { pcshareVersion: "0.1.0-test" };
let dir: string;
let a: RunResult, b: RunResult, src: RunResult;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pcshare-history-"));
  [a, b, src] = await Promise.all(["sid-7.2.13-noisy-repeat5-a.json", "sid-7.2.13-noisy-repeat5-b.json", "source-7.2.13-l1-l3-d2-o3.json"].map((f) => readResults(path.join(FIX, f))));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const add = (file: string, ...runs: RunResult[]) => updateHistory(file, (db) => runs.map((r) => insertRun(db, r, META)));
const query = async <T>(file: string, q: (db: Awaited<ReturnType<typeof openHistory>>) => T): Promise<T> => {
  const db = await openHistory(file);
  try {
    return q(db);
  } finally {
    db.close();
  }
};

/** b with F1's exact equal_frames gone from 2048 to 0 in every repetition (declared better: higher in both runs). */
function planted(run: RunResult, value?: number): RunResult {
  return {
    ...run,
    cases: run.cases.map((c) =>
      c.id !== "F1" ? c : { ...c, measurements: c.measurements.map((m) => (m.name === "equal_frames" ? { ...m, kind: "exact" as const, better: "higher" as const, value: value ?? m.value } : m)) },
    ),
  };
}

describe("history", () => {
  it("appends runs once each and lists them oldest first, filtered by kernel and count", async () => {
    const file = path.join(dir, "list.sqlite");
    expect(await add(file, b, src, a)).toEqual([true, true, true]);
    expect(await add(file, a)).toEqual([false]); // the same run again
    const all = await query(file, (db) => listRuns(db));
    expect(all.map((r) => r.startedAt)).toEqual([a.startedAt, b.startedAt, src.startedAt]);
    expect(all[0].outcomes).toEqual({ pass: 27, fail: 3 });
    expect(all[0].kernel).toBe(kernelKey(a));
    expect(kernelKey(a)).toMatch(/^7\.2\.13\+deb14-amd64 debian:sid [0-9a-f]{12} -$/);
    expect(kernelKey(src)).not.toBe(kernelKey(a));
    expect((await query(file, (db) => listRuns(db, { kernel: "debian-source" }))).map((r) => r.startedAt)).toEqual([src.startedAt]);
    expect((await query(file, (db) => listRuns(db, { last: 2 }))).map((r) => r.startedAt)).toEqual([b.startedAt, src.startedAt]);
  });

  it("reads a run back so that the A/B statistics judge it as the results file", async () => {
    const file = path.join(dir, "roundtrip.sqlite");
    await add(file, a, b);
    const [ra, rb] = await query(file, (db) => listRuns(db).map((r) => loadRun(db, r.id)));
    const strip = (c: ReturnType<typeof compareSamples>) => ({ ...c, baseline: { ...c.baseline, files: [] }, patched: { ...c.patched, files: [] } });
    const fromFiles = compareSamples({ runs: [a], files: [] }, { runs: [b], files: [] });
    expect(strip(compareSamples({ runs: [ra], files: [] }, { runs: [rb], files: [] }))).toEqual(strip(fromFiles));
    expect(ra.cases.map((c) => [c.id, c.outcome, c.repeat, c.measurements.length])).toEqual(a.cases.map((c) => [c.id, c.outcome, c.repeat, c.measurements.filter((m) => Number.isFinite(m.value)).length]));
  });

  it("charts a measurement over the runs: one bar per run at the median of its repetitions", async () => {
    const file = path.join(dir, "trend.sqlite");
    await add(file, a, b);
    const points = await query(file, (db) => trendPoints(db, "loop_ms", { caseId: "L1" }));
    expect(points.map((p) => p.samples)).toEqual([2, 3]); // L1 loop_ms as recorded: 2 and 3 of the 5 repetitions
    expect(points[1].value).toBe(16089);
    const svg = trendChart("loop_ms", points);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("7.2.13+deb14-amd64 2026-12-05 #1");
    expect(svg).toContain("7.2.13+deb14-amd64 2026-12-05 #2");
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(2); // the bars (with a tooltip), not the legend's swatch
  });

  it("finds a planted regression of the latest run against the previous one of the same kernel, and exits 1 on it", async () => {
    const file = path.join(dir, "regress.sqlite");
    await add(file, planted(a), planted(b), src);
    const clean = await query(file, (db) => latestAgainstPrevious(db));
    expect(clean.compared.map((r) => [r.kernel, r.comparison.fails])).toEqual([[kernelKey(a), false]]);
    expect(clean.single.map((r) => r.kernel)).toEqual([kernelKey(src)]);
    const later = { ...planted(b, 0), startedAt: "2026-12-06T00:00:00.000Z" };
    await add(file, later);
    const found = await query(file, (db) => latestAgainstPrevious(db));
    expect(found.compared[0].comparison.fails).toBe(true);
    expect(found.compared[0].comparison.significant[0]).toMatchObject({ id: "F1", figure: "equal_frames", direction: "worse" });
    const cli = await execa(path.resolve("bin/pcshare"), ["regressions", "--history", file], { reject: false, env: { PCSHARE_QUIET: "1" } });
    expect(cli.stdout).toContain("REGRESSION on 1 kernel(s)");
    expect(cli.exitCode).toBe(1);
  });

  it("judges an outcome change with the A/B statistics: significant with 5 repetitions a side, honestly inconclusive with one", async () => {
    const failF1 = (r: RunResult): RunResult => ({ ...r, startedAt: "2026-12-07T00:00:00.000Z", cases: r.cases.map((c) => (c.id === "F1" ? { ...c, outcome: "fail" as const, reason: "planted" } : c)) });
    const firstRepeat = (r: RunResult): RunResult => ({ ...r, cases: r.cases.filter((c) => (c.repeat ?? 0) === 0) });
    const cli = (file: string) => execa(path.resolve("bin/pcshare"), ["regressions", "--history", file], { reject: false, env: { PCSHARE_QUIET: "1" } });
    const f1Outcome = (items: { id: string; type: string }[]) => items.filter((i) => i.id === "F1" && i.type === "outcome");

    // F1 alone: with every case of the runs, Holm's adjustment over 30 tests leaves p = 0.008 undecided (0.24).
    const onlyF1 = (r: RunResult): RunResult => ({ ...r, cases: r.cases.filter((c) => c.id === "F1") });
    const repeated = path.join(dir, "outcome-repeat5.sqlite");
    await add(repeated, onlyF1(a), onlyF1(failF1(b)));
    const five = (await query(repeated, (db) => latestAgainstPrevious(db))).compared[0].comparison;
    expect(f1Outcome(five.significant)).toHaveLength(1); // 0 of 5 failing, then 5 of 5: Fisher p = 0.008
    expect(five.fails).toBe(true);
    const r5 = await cli(repeated);
    expect(r5.stdout).toMatch(/REGRESSION on 1 kernel\(s\)/);
    expect(r5.exitCode).toBe(1);

    const single = path.join(dir, "outcome-repeat1.sqlite");
    await add(single, firstRepeat(onlyF1(a)), firstRepeat(onlyF1(failF1(b))));
    const one = (await query(single, (db) => latestAgainstPrevious(db))).compared[0].comparison;
    expect(f1Outcome(one.significant)).toHaveLength(0); // 0 of 1 failing, then 1 of 1: p = 1, nothing decided
    expect(f1Outcome(one.inconclusive)).toHaveLength(1);
    expect(one.fails).toBe(false);
    const r1 = await cli(single);
    expect(r1.stdout).toMatch(/no significant regression \(1 kernel\(s\) compared\); \d+ change\(s\) inconclusive, not judged either way: repeat the cases/);
    expect(r1.exitCode).toBe(0);
  });

  it("keeps every run when appends race (the file's lock queues them)", async () => {
    const file = path.join(dir, "race.sqlite");
    const runs = Array.from({ length: 3 }, (_, i) => ({ ...src, startedAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    await Promise.all(runs.map((r) => add(file, r)));
    expect(await query(file, (db) => listRuns(db).length)).toBe(3);
    await expect(readFile(`${file}.lock/owner.json`)).rejects.toThrow(); // released
  });

  it("records a run unless told not to; a shard waits for its merge", async () => {
    const file = path.join(dir, "record.sqlite");
    expect(await recordRun(src, "/results/x", { history: file })).toBe(`history: ${file}\n`);
    expect(await recordRun(a, "/results/y", { history: false })).toBe("");
    expect(await recordRun({ ...a, shard: { index: 1, count: 2 } } as RunResult, "/results/z", { history: file })).toContain("recorded once merged");
    const runs = await query(file, (db) => listRuns(db));
    expect(runs.map((r) => [r.startedAt, r.results])).toEqual([[src.startedAt, "/results/x"]]);
  });

  it("records a merged nightly once, not its shards", async () => {
    const file = path.join(dir, "merged.sqlite");
    const race = await readResults(path.join(FIX, "sid-7.2.13-race-l1-l3.json"));
    const split = { count: 2, selection: ["L1", "L3"], groups: [["L1"], ["L3"]], weighedBy: "timeouts" };
    const shards = await Promise.all(
      ["L1", "L3"].map(async (id, i) => {
        const shard = { ...race, cases: race.cases.filter((c) => c.id === id), shard: { index: i + 1, ...split } } as RunResult;
        expect(await recordRun(shard, "/shard", { history: file })).toContain("recorded once merged");
        const f = path.join(dir, `shard-${i + 1}`, "results.json");
        await writeResults(shard, f);
        return f;
      }),
    );
    await mergeCommand(shards, { out: path.join(dir, "merged"), history: file, label: "nightly" });
    const runs = await query(file, (db) => listRuns(db));
    expect(runs.map((r) => [r.label, r.results, r.outcomes])).toEqual([["nightly", path.join(dir, "merged"), { fail: 2 }]]);
  });
});
