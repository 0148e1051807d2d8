// Reduces a results.json to what a comparison reads (outcomes, reasons, durations, measurements,
// repetitions, kernel), for keeping real runs as test fixtures: `tsx scripts/reduce-results.ts IN OUT`.
import { readFile, writeFile } from "node:fs/promises";
import type { RunResult } from "../harness/report/model.ts";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: tsx scripts/reduce-results.ts results.json reduced.json");
  process.exit(2);
}
const run = JSON.parse(await readFile(input, "utf8")) as RunResult;
const reduced: RunResult = {
  ...run,
  boots: undefined,
  cases: run.cases.map((c) => ({ ...c, checks: [], crashes: [], artifacts: {}, consoleExcerpt: undefined, findings: [] })),
};
await writeFile(output, JSON.stringify(reduced, null, 1) + "\n");
