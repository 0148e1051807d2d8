// `pcshare run --shard` + `pcshare merge` on the default kernel, as a user runs them (the CLI): three
// quick cases run once whole and once as two shards; the merge has the same verdicts as the whole
// run, every format is written, and provenance is recorded. Merging only the second shard makes the
// first shard's cases missing (KTAP, JUnit, KCIDB MISS), exit 1. Shards of another kernel, the same
// shard twice and a shard count that does not fit are refused with one line, exit 2.
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults, toJson } from "../../harness/report/json.ts";
import type { RunResult } from "../../harness/report/model.ts";

const ONLY = "F1,F1b,I1";
let tmp: string;
let whole: RunResult;

// No standby guest: one core per run is enough for three short cases and leaves the other to the host.
// No history: the test's runs are not the user's.
const pcshare = (args: string[]) => execa("npx", ["tsx", "harness/cli.ts", ...args, "--no-history"], { reject: false, stdin: "ignore", env: { PCSHARE_SPARE_GUEST: "0" } });
const verdicts = (r: RunResult) => Object.fromEntries(r.cases.map((c) => [c.id, c.outcome]));

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pcshare-merge-"));
  const runs = [
    ["--out", path.join(tmp, "whole")],
    ["--shard", "1/2", "--no-durations", "--out", path.join(tmp, "s1")],
    ["--shard", "2/2", "--no-durations", "--out", path.join(tmp, "s2")],
  ];
  for (const extra of runs) {
    const r = await pcshare(["run", "--only", ONLY, ...extra]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
  }
  whole = await readResults(path.join(tmp, "whole", "results.json"));
}, 900_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("merged shards", () => {
  it("have the verdicts of the unsharded run, each case once, in selection order", async () => {
    const s1 = await readResults(path.join(tmp, "s1", "results.json"));
    const s2 = await readResults(path.join(tmp, "s2", "results.json"));
    expect(s1.cases.length + s2.cases.length).toBe(3);
    expect(s1.shard?.groups).toEqual(s2.shard?.groups);
    const r = await pcshare(["merge", path.join(tmp, "s1"), path.join(tmp, "s2", "results.json"), "--out", path.join(tmp, "merged")]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/merged 2 of 2 shard\(s\)/);
    const merged = await readResults(path.join(tmp, "merged", "results.json"));
    expect(merged.cases.map((c) => c.id)).toEqual(whole.cases.map((c) => c.id));
    expect(verdicts(merged)).toEqual(verdicts(whole));
    expect(merged.shard).toBeUndefined();
    expect(merged.merged).toMatchObject({ count: 2, missing: [] });
    // Artifact links still reach the shards' files from the merged directory.
    const log = merged.cases[0].artifacts.qemu;
    expect((await readFile(path.join(tmp, "merged", log), "utf8")).length).toBeGreaterThan(0);
    for (const f of ["results.ktap", "junit.xml", "kcidb.json", "report.md", "report.html"]) {
      expect((await readFile(path.join(tmp, "merged", f), "utf8")).length, f).toBeGreaterThan(0);
    }
  }, 120_000);

  it("record provenance: pcshare's commit, kernel source and config hash, image spec hashes, host", () => {
    const p = whole.provenance!;
    expect(p.pcshare.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(p.kernel).toMatchObject({ source: "debian:sid", version: whole.kernel.version });
    expect(p.kernel.configSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(p.images).length).toBeGreaterThan(0);
    for (const h of Object.values(p.images)) expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(p.host.hostname).toBe(os.hostname());
  });
});

describe("a shard that never reported", () => {
  it("makes its cases missing, in every format, and the merge exits 1", async () => {
    const out = path.join(tmp, "half");
    const r = await pcshare(["merge", path.join(tmp, "s2"), "--shards", "2", "--out", out]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/shard\(s\) 1 never reported/);
    const merged = await readResults(path.join(out, "results.json"));
    const s1 = await readResults(path.join(tmp, "s1", "results.json"));
    const lost = s1.cases.map((c) => c.id);
    expect(merged.cases.map((c) => c.id)).toEqual(whole.cases.map((c) => c.id));
    for (const c of merged.cases) expect(c.outcome === "missing", c.id).toBe(lost.includes(c.id));
    expect(merged.cases.find((c) => c.outcome === "missing")?.reason).toMatch(/shard 1\/2 never reported/);
    const kcidb = JSON.parse(await readFile(path.join(out, "kcidb.json"), "utf8"));
    expect(kcidb.tests.filter((t: { status: string }) => t.status === "MISS")).toHaveLength(lost.length);
    expect(await readFile(path.join(out, "results.ktap"), "utf8")).toMatch(/not ok \d+ \S+ # ERROR MISSING: shard 1\/2/);
    expect(await readFile(path.join(out, "junit.xml"), "utf8")).toMatch(/<error message="[^"]*shard 1\/2 never reported/);
  }, 120_000);
});

describe("shards that are not one run", () => {
  it("of another kernel, twice the same shard, or another shard count: one line, exit 2", async () => {
    const other = path.join(tmp, "other");
    await mkdir(other);
    const s1 = await readResults(path.join(tmp, "s1", "results.json"));
    await writeFile(path.join(other, "results.json"), toJson({ ...s1, kernel: { ...s1.kernel, release: "6.12.117+deb13-amd64", source: "debian:trixie" } }));
    const cases: [string[], RegExp][] = [
      [[other, path.join(tmp, "s2")], /kernel 7\.2\.\S+ \(debian:sid\) is not .*6\.12\.117.*merge only shards of one kernel/],
      [[path.join(tmp, "s1"), path.join(tmp, "s1")], /shard 1\/2 is also .*give each shard's results once/],
      [[path.join(tmp, "s1"), "--shards", "3"], /--shards 3: .* is shard 1\/2/],
      [[path.join(tmp, "whole")], /not a shard's results/],
    ];
    const runs = await Promise.all(cases.map(([args]) => pcshare(["merge", ...args, "--out", path.join(tmp, "refused")])));
    runs.forEach((r, i) => {
      expect(r.exitCode, cases[i][0].join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i][1]);
    });
  }, 300_000);
});
