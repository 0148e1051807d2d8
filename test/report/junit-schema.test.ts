// junit.xml against junit-10.xsd (test/fixtures/junit-10.xsd, the schema Jenkins' xunit plugin checks
// reports with), validated by xmllint: the recorded real runs with the registered known bugs applied,
// the same runs with their cases given every outcome (xfail, xpass, missing, error, skip, timeout),
// and the hand-built run with every kind of detail.
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderJunit } from "../../harness/report/junit.ts";
import { readResults } from "../../harness/report/index.ts";
import { OUTCOMES, type RunResult } from "../../harness/report/model.ts";
import { applyKnownBugs } from "../../harness/verdict/known-bugs.ts";
import { loadKnownBugs } from "../../harness/verdict/load-known-bugs.ts";
import { fullRun, makeCase, makeRun } from "./fixtures.ts";

const XSD = path.resolve("test/fixtures/junit-10.xsd");
const RUNS = ["sid-7.2.13-f1-l2-d2-o3.json", "sid-7.2.13-noisy-repeat5-a.json", "sid-7.2.13-race-l1-l3.json", "source-7.2.13-l1-l3-d2-o3.json"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pcshare-junit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** xmllint's verdict on the run's junit.xml: "" when valid, else its error lines. */
async function schemaErrors(run: RunResult, name: string): Promise<string> {
  const file = path.join(dir, `${name}.xml`);
  await writeFile(file, renderJunit(run));
  const r = await execa("xmllint", ["--noout", "--schema", XSD, file], { reject: false });
  return r.exitCode === 0 ? "" : r.stderr;
}

/** Every outcome in turn on the run's cases (the first case of each outcome keeps its checks and figures). */
function everyOutcome(run: RunResult): RunResult {
  return {
    ...run,
    cases: run.cases.map((c, i) => {
      const outcome = OUTCOMES[i % OUTCOMES.length];
      return { ...c, outcome, reason: `${outcome} as the test set it` };
    }),
  };
}

describe("junit.xml against junit-10.xsd", () => {
  it("validates the recorded runs, with the registered bugs applied", async () => {
    const bugs = await loadKnownBugs();
    for (const name of RUNS) {
      const run = applyKnownBugs(await readResults(path.join("test/fixtures/runs", name)), bugs);
      expect(await schemaErrors(run, name)).toBe("");
    }
  });

  it("validates the recorded runs with every outcome, and the run with every kind of detail", async () => {
    const run = await readResults("test/fixtures/runs/sid-7.2.13-noisy-repeat5-a.json");
    const varied = everyOutcome(run);
    expect(new Set(varied.cases.map((c) => c.outcome)).size).toBe(OUTCOMES.length);
    expect(await schemaErrors(varied, "every-outcome")).toBe("");
    const detail = fullRun();
    detail.cases.push(makeCase({ id: "S9", name: "never-ran", outcome: "missing", reason: "the run stopped" }));
    expect(await schemaErrors(detail, "full")).toBe("");
  });

  it("is checked for real: xmllint rejects what the schema forbids", async () => {
    const run = makeRun([makeCase({ id: "F1", name: "f", outcome: "pass" })]);
    const file = path.join(dir, "bad.xml");
    await writeFile(file, renderJunit(run).replace("<testcase ", '<testcase bogus="1" '));
    const r = await execa("xmllint", ["--noout", "--schema", XSD, file], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("bogus");
  });
});
