// The cycle and guest time of a race's first kernel report, read from a real console log of L3 on
// Debian's 7.2.13 (the agent's per-cycle marks, then "Busy inodes after unmount" and its BUG).
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { hitOf, raceSummary } from "../../harness/report/race-hits.ts";
import type { CaseResult, RunResult } from "../../harness/report/model.ts";

const log = await readFile(new URL("../fixtures/console/remount-race-busy-inodes.log", import.meta.url), "utf8");

describe("hitOf", () => {
  it("gives the cycle in progress and the seconds since cycle 1 at the first report", () => {
    expect(hitOf(log)).toEqual({ cycle: 2, seconds: 2.92 });
  });

  it("gives nothing when the console has no report or no marks", () => {
    const marksOnly = log.split("\n").filter((l) => l.includes("remount_race")).join("\n");
    expect(hitOf(marksOnly)).toBeUndefined();
    const reportOnly = log.split("\n").filter((l) => !l.includes("remount_race")).join("\n");
    expect(hitOf(reportOnly)).toBeUndefined();
  });
});

describe("raceSummary", () => {
  const result = (outcome: string, rawOutcome?: string, cycles?: number) =>
    ({ id: "L1", name: "x", outcome, ...(rawOutcome && { rawOutcome }), checks: [], crashes: [], artifacts: {}, measurements: cycles ? [{ name: "race_cycles", value: cycles, unit: "cycles" }] : [] }) as unknown as CaseResult;

  it("counts a registered race's xfail as a hit and its xpass as a pass, errors apart", async () => {
    const run = { cases: [result("xfail", "fail"), result("fail"), result("xpass", "pass", 50), result("pass", undefined, 40), result("error"), result("timeout")] } as unknown as RunResult;
    const [s] = await raceSummary(run, "/nonexistent");
    expect(s).toMatchObject({ id: "L1", runs: 6, fails: 2, errors: 2, passCycles: [50, 40] });
  });
});
