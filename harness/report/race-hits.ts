// How fast the lifetime races hit: per case of a (repeated) run, how many repeats failed and, for each
// failure, the remount_race cycle and the guest seconds at which the kernel's first report appeared
// (read from the console, where the agent marks every cycle: the report usually kills the agent).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { classifyConsole, stripTimestamp } from "../vm/crash.ts";
import type { RunResult } from "./model.ts";

const MARK = /pcshare remount_race: cycle (\d+)/;
const STAMP = /^\s*\[\s*(\d+\.\d+)\]/;

export interface Hit {
  /** The cycle in progress when the first report appeared (1-based). */
  cycle: number;
  /** Guest seconds from the start of cycle 1 to the report. */
  seconds: number;
}

/** The cycle and time of the first kernel report in a console log with remount_race marks; undefined without either. */
export function hitOf(consoleLog: string): Hit | undefined {
  const lines = consoleLog.replace(/\r/g, "").split("\n");
  const first = classifyConsole(consoleLog)[0];
  if (!first) return undefined;
  const at = lines.findIndex((l) => stripTimestamp(l).includes(first.title));
  let cycle = 0;
  let start: number | undefined;
  for (const l of lines.slice(0, at)) {
    const m = MARK.exec(l);
    if (!m) continue;
    cycle = Number(m[1]);
    if (cycle === 1) start = Number(STAMP.exec(l)?.[1]);
  }
  const end = Number(STAMP.exec(lines[at] ?? "")?.[1]);
  if (!cycle || start === undefined || Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return { cycle, seconds: Math.round((end - start) * 100) / 100 };
}

export interface RaceSummary {
  id: string;
  runs: number;
  fails: number;
  /** Repeats that ended in error or timeout (no verdict on the kernel). */
  errors: number;
  /** One per failed repeat whose console shows the marks. */
  hits: Hit[];
  /** race_cycles of the repeats that passed (the loop ran its whole budget). */
  passCycles: number[];
}

/** Per case id, in first-seen order. */
export async function raceSummary(run: RunResult, resultsDir: string): Promise<RaceSummary[]> {
  const byId = new Map<string, RaceSummary>();
  for (const c of run.cases) {
    const s = byId.get(c.id) ?? { id: c.id, runs: 0, fails: 0, errors: 0, hits: [], passCycles: [] };
    byId.set(c.id, s);
    s.runs++;
    // A registered race is xfail (it hit) or xpass (it did not): judge on the kernel's own outcome.
    const outcome = c.rawOutcome ?? c.outcome;
    if (outcome === "pass") {
      const cycles = c.measurements.find((m) => m.name === "race_cycles")?.value;
      if (cycles !== undefined) s.passCycles.push(cycles);
      continue;
    }
    if (outcome !== "fail") {
      s.errors++;
      continue;
    }
    s.fails++;
    const log = c.artifacts.console ? await readFile(path.join(resultsDir, c.artifacts.console), "utf8").catch(() => "") : "";
    const hit = hitOf(log);
    if (hit) s.hits.push(hit);
  }
  return [...byId.values()];
}
