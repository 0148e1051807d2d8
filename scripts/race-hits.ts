// Prints how fast the lifetime races hit in one or more results directories (pooled by case id):
// fails per case and the cycle and guest time of each hit. Usage: tsx scripts/race-hits.ts DIR...
import { readFile } from "node:fs/promises";
import path from "node:path";
import { raceSummary, type RaceSummary } from "../harness/report/race-hits.ts";
import type { RunResult } from "../harness/report/model.ts";

const dirs = process.argv.slice(2);
if (!dirs.length) {
  console.error("usage: tsx scripts/race-hits.ts RESULTS_DIR... (directories holding results.json)");
  process.exit(2);
}
const pooled = new Map<string, RaceSummary>();
for (const dir of dirs) {
  let run: RunResult;
  try {
    run = JSON.parse(await readFile(path.join(dir, "results.json"), "utf8"));
  } catch (err) {
    console.error(`${path.join(dir, "results.json")}: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const s of await raceSummary(run, dir)) {
    const p = pooled.get(s.id);
    if (!p) pooled.set(s.id, s);
    else {
      p.runs += s.runs;
      p.fails += s.fails;
      p.errors += s.errors;
      p.hits.push(...s.hits);
      p.passCycles.push(...s.passCycles);
    }
  }
}
for (const s of pooled.values()) {
  const hits = s.hits.map((h) => `${h.cycle}@${h.seconds}s`).join(" ");
  const passed = s.passCycles.length ? `  pass cycles: ${s.passCycles.join(" ")}` : "";
  console.log(`${s.id.padEnd(5)} fail ${s.fails}/${s.runs}${s.errors ? ` (${s.errors} error/timeout)` : ""}${hits ? `  hits (cycle@guest s): ${hits}` : ""}${passed}`);
}
