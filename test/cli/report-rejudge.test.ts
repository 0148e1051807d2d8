// `pcshare report RESULTS --known-bugs DIR | --no-known-bugs` judges an earlier run again: every case
// goes back to the outcome and reason the kernel gave it, then through the chosen registry. Runs on a
// recorded full-suite run of Debian's 7.2.13 (test/fixtures/runs/), through bin/pcshare as a user would.
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../harness/report/model.ts";
import { applyKnownBugs, withoutKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";

const PCSHARE = new URL("../../bin/pcshare", import.meta.url).pathname;
const FIXTURE = new URL("../fixtures/runs/sid-7.2.13-f1-l2-d2-o3.json", import.meta.url).pathname;
const raw = JSON.parse(await readFile(FIXTURE, "utf8")) as RunResult;
const bugs = await loadKnownBugs();
const dir = await mkdtemp(path.join(os.tmpdir(), "pcshare-rejudge-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const outcomes = (r: RunResult) => r.cases.map((c) => `${c.id} ${c.outcome}`);

describe("withoutKnownBugs", () => {
  it("gives back each case's raw outcome and reason, and judging again gives the same verdicts", () => {
    const judged = applyKnownBugs(raw, bugs);
    expect(outcomes(judged)).toEqual(["F1 pass", "L2 xfail", "D2 xfail", "O3 xfail"]);
    const back = withoutKnownBugs(judged);
    expect(back.cases.map((c) => [c.outcome, c.reason])).toEqual(raw.cases.map((c) => [c.outcome, c.reason]));
    expect(back.cases.some((c) => c.rawOutcome || c.knownBugs || c.rawReason !== undefined)).toBe(false);
    expect(back.knownBugs).toBeUndefined();
    expect(applyKnownBugs(back, bugs)).toEqual(judged);
  });

  it("takes the layer's wording off results written before rawReason was recorded", () => {
    const judged = applyKnownBugs(raw, bugs);
    const legacy = { ...judged, cases: judged.cases.map(({ rawReason: _r, ...c }) => c) };
    expect(withoutKnownBugs(legacy).cases.map((c) => c.reason)).toEqual(raw.cases.map((c) => c.reason));
  });
});

describe("pcshare report --known-bugs / --no-known-bugs", () => {
  it("judges the run again, lists what changed and rewrites the results", async () => {
    const file = path.join(dir, "results.json");
    await copyFile(FIXTURE, file);
    const withBugs = await execa(PCSHARE, ["report", file, "--known-bugs", "known-bugs", "--format", "json", "ktap"]);
    expect(withBugs.stdout).toContain("judged again: 3 of 4 verdict(s) changed");
    expect(withBugs.stdout).toMatch(/O3 remount-adds-inode-share-without-domain: fail -> xfail {2}known bug erofs-remount-inode-share-null-domain/);
    expect(outcomes(JSON.parse(await readFile(file, "utf8")))).toEqual(["F1 pass", "L2 xfail", "D2 xfail", "O3 xfail"]);
    expect(await readFile(path.join(dir, "results.ktap"), "utf8")).toContain("# XFAIL");

    const none = await execa(PCSHARE, ["report", file, "--no-known-bugs", "--format", "json"]);
    expect(none.stdout).toContain("judged again: 3 of 4 verdict(s) changed");
    expect(outcomes(JSON.parse(await readFile(file, "utf8")))).toEqual(outcomes(raw));
  });

  it("without either option re-exports as recorded", async () => {
    const out = await execa(PCSHARE, ["report", FIXTURE, "--out", dir, "--format", "json"]);
    expect(out.stdout).not.toContain("judged again");
    expect(outcomes(JSON.parse(await readFile(path.join(dir, "results.json"), "utf8")))).toEqual(outcomes(raw));
  });
});
