// Shard splitting (`pcshare run --shard i/n`) on the real catalogue and on made-up weights: every
// selected case is in exactly one shard, the same inputs give the same split, the loads are balanced
// within one case's weight, recorded durations beat declared timeouts, and bad --shard values are
// one-line errors.
import { describe, expect, it } from "vitest";
import { mkdtemp, rm, mkdir, writeFile, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ALL_CASES } from "../../cases/index.ts";
import { caseWeights, newestResults, parseShard, recordedDurations, shardCases, splitShards } from "../../harness/runner/shard.ts";
import { readResults, toJson } from "../../harness/report/json.ts";
import type { RunResult } from "../../harness/report/model.ts";
import { validateCommand } from "../../harness/cli/validate-inputs.ts";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json");

/** A deterministic pseudo-random sequence (so a failure is reproducible). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe("splitShards", () => {
  it("puts every case in exactly one shard, keeps selection order, and balances within one case's weight", () => {
    const rand = lcg(7);
    for (let trial = 0; trial < 200; trial++) {
      const cases = ALL_CASES.filter(() => rand() < 0.6);
      if (!cases.length) continue;
      const n = 1 + Math.floor(rand() * Math.min(8, cases.length));
      const weights = cases.map(() => Math.round(rand() * 100_000));
      const groups = splitShards(cases, n, weights);
      expect(groups).toHaveLength(n);
      expect(groups.flat().sort()).toEqual(cases.map((c) => c.id).sort());
      const pos = new Map(cases.map((c, i) => [c.id, i]));
      for (const g of groups) expect(g.map((id) => pos.get(id)!)).toEqual([...g.map((id) => pos.get(id)!)].sort((a, b) => a - b));
      const w = new Map(cases.map((c, i) => [c.id, weights[i]]));
      const loads = groups.map((g) => g.reduce((s, id) => s + w.get(id)!, 0));
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...weights));
    }
  });

  it("gives the same split for the same inputs, and each shard's view agrees", async () => {
    const sel = ALL_CASES.slice(0, 20);
    const a = splitShards(sel, 3, caseWeights(sel, new Map()));
    const b = splitShards([...sel], 3, caseWeights([...sel], new Map()));
    expect(b).toEqual(a);
    const views = await Promise.all([1, 2, 3].map((i) => shardCases(sel, { shard: `${i}/3`, durations: [] })));
    for (const v of views) expect(v.info.groups).toEqual(a);
    expect(views.flatMap((v) => v.cases.map((c) => c.id)).sort()).toEqual(sel.map((c) => c.id).sort());
  });

  it("separates the long cases rather than stacking them", () => {
    const sel = ALL_CASES.slice(0, 4);
    const groups = splitShards(sel, 2, [100, 100, 1, 1]);
    expect(groups.map((g) => g.length)).toEqual([2, 2]);
    expect(groups[0]).toContain(sel[0].id);
    expect(groups[1]).toContain(sel[1].id);
  });
});

describe("case weights", () => {
  it("use recorded mean durations, the median for untimed cases, and timeouts when nothing is recorded", async () => {
    const run = await readResults(FIXTURE);
    const d = recordedDurations([run, run]);
    expect(d.get("D2")).toBe(run.cases.find((c) => c.id === "D2")!.durationMs);
    const sel = ALL_CASES.filter((c) => ["F1", "D2", "O3", "L2", "F2"].includes(c.id));
    const w = caseWeights(sel, d);
    const recorded = ["F1", "L2", "D2", "O3"].map((id) => d.get(id)!).sort((a, b) => a - b);
    expect(w[sel.findIndex((c) => c.id === "F2")]).toBe(recorded[1]);
    expect(caseWeights(sel, new Map())).toEqual(sel.map((c) => c.timeoutMs ?? 60_000));
  });

  it("ignore skipped and missing cases (they did not run)", () => {
    const run = { cases: [{ id: "F1", outcome: "skip", durationMs: 5 }, { id: "F2", outcome: "missing", durationMs: 7 }, { id: "I1", outcome: "pass", durationMs: 9 }] } as RunResult;
    expect([...recordedDurations([run])]).toEqual([["I1", 9]]);
  });

  it("default to the newest complete run under results/, never a shard's", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-shard-"));
    try {
      const run = await readResults(FIXTURE);
      const put = async (name: string, r: RunResult, age: number) => {
        await mkdir(path.join(dir, name));
        await writeFile(path.join(dir, name, "results.json"), toJson(r));
        const t = new Date(Date.now() - age * 1000);
        await utimes(path.join(dir, name, "results.json"), t, t);
      };
      await put("old", run, 30);
      await put("newer", run, 20);
      await put("shard", { ...run, shard: { index: 1, count: 2, selection: ["F1", "L2"], groups: [["F1"], ["L2"]], weighedBy: "timeouts" } }, 10);
      expect(await newestResults(dir)).toBe(path.join(dir, "newer", "results.json"));
      const s = await shardCases(ALL_CASES.filter((c) => ["F1", "D2"].includes(c.id)), { shard: "1/2", resultsDir: dir });
      expect(s.info.weighedBy).toEqual([path.join(dir, "newer", "results.json")]);
      expect(await newestResults(path.join(dir, "none"))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("--shard values", () => {
  it.each(["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", "-1/2"])("%s is refused naming the option", (v) => {
    expect(() => parseShard(v)).toThrow(/^--shard .*: expected I\/N with 1 <= I <= N/);
  });

  it("are checked before any work: a bad --shard, --durations without --shard, a --durations file that is not results", async () => {
    const run = (o: Record<string, unknown>) => validateCommand("run", [], { repeat: "1", memory: "1024", cpus: "2", ...o });
    await expect(run({ shard: "3/2" })).rejects.toThrow(/^--shard 3\/2: expected I\/N/);
    await expect(run({ durations: [FIXTURE] })).rejects.toThrow(/^--durations only balances --shard/);
    await expect(run({ shard: "1/2", durations: [path.join(import.meta.dirname, "shard.test.ts")] })).rejects.toThrow(/shard\.test\.ts: not valid JSON.*give the results\.json of an earlier run/);
    await expect(run({ shard: "1/2", durations: [FIXTURE] })).resolves.toBeUndefined();
  });

  it("more shards than selected cases is refused", async () => {
    await expect(shardCases(ALL_CASES.slice(0, 2), { shard: "1/3", durations: [] })).rejects.toThrow(/selection has 2 case\(s\); use at most 2 shard/);
  });
});
