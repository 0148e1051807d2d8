// Tests of results.json: round trip, the schema check and its error messages, and writeReports.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResults, writeResults, ResultsFileError } from "../../harness/report/json.ts";
import { REPORT_FILES, REPORT_FORMATS, parseReportFormat, renderReport, writeReports } from "../../harness/report/index.ts";
import { fullRun } from "./fixtures.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pcshare-report-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("results.json", () => {
  it("round-trips: write -> readResults gives the same object", async () => {
    const run = fullRun();
    const file = path.join(dir, "rt", "results.json");
    await writeResults(run, file);
    expect(await readResults(file)).toEqual(run);
    // and every export of the re-read run is identical to the original's
    const again = await readResults(file);
    for (const f of REPORT_FORMATS) expect(renderReport(again, f)).toBe(renderReport(run, f));
  });

  it("rejects files that are not pcshare results, naming the file", async () => {
    const cases: [string, string, RegExp][] = [
      ["nojson.json", "{not json", /nojson\.json: not valid JSON/],
      ["noschema.json", JSON.stringify({ cases: [] }), /noschema\.json: not a pcshare results file \(no "schema" field; expected "pcshare-results\/1"\)/],
      ["other.json", JSON.stringify({ schema: "pcshare-results/9" }), /other\.json: unsupported results schema "pcshare-results\/9"/],
      ["array.json", "[]", /array\.json: not a pcshare results file/],
    ];
    for (const [name, text, re] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, text);
      const err = await readResults(file).catch((e) => e);
      expect(err, name).toBeInstanceOf(ResultsFileError);
      expect(err.message, name).toMatch(re);
      expect(err.message.startsWith(file)).toBe(true);
    }
  });

  it("rejects a bad outcome with the case named", async () => {
    const run = fullRun() as any;
    run.cases[2].outcome = "passed";
    const file = path.join(dir, "bad-outcome.json");
    await writeFile(file, JSON.stringify(run));
    await expect(readResults(file)).rejects.toThrow(/bad-outcome\.json: malformed results \(cases\[2\] \(F3\) has outcome "passed"/);
  });

  it("names a missing file", async () => {
    await expect(readResults(path.join(dir, "missing.json"))).rejects.toThrow(/missing\.json: cannot read results file/);
  });
});

describe("writeReports", () => {
  it("writes every format under its file name", async () => {
    const out = path.join(dir, "all");
    const written = await writeReports(fullRun(), out);
    expect(Object.keys(written).sort()).toEqual([...REPORT_FORMATS].sort());
    for (const f of REPORT_FORMATS) {
      expect(written[f]).toBe(path.join(out, REPORT_FILES[f]));
      expect((await readFile(written[f]!, "utf8")).length).toBeGreaterThan(0);
    }
    expect(await readResults(written.json!)).toEqual(fullRun());
  });

  it("writes only the requested formats", async () => {
    const out = path.join(dir, "some");
    const written = await writeReports(fullRun(), out, ["junit", "ktap"]);
    expect(written).toEqual({ junit: path.join(out, "junit.xml"), ktap: path.join(out, "results.ktap") });
  });

  it("parses format names", () => {
    expect(parseReportFormat("markdown")).toBe("md");
    expect(parseReportFormat("JUnit")).toBe("junit");
    expect(() => parseReportFormat("pdf")).toThrow(/unknown report format "pdf" \(one of: json, ktap, junit, kcidb, md, html\)/);
  });
});
