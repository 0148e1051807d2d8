// After the Stryker runs: the mutation score of each mutated module from reports/mutation/*.json, and
// the survivors of any module under the bar. Exits 1 when a module scores under 90 %.
// Score = (killed + timed out) / (all valid mutants, including those no test covers), as Stryker counts it.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const MIN_SCORE = 90;
const DIR = "reports/mutation";

interface Mutant {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number } };
}

const files: Record<string, { mutants: Mutant[] }> = {};
for (const f of readdirSync(DIR).filter((x) => x.endsWith(".json")))
  Object.assign(files, (JSON.parse(readFileSync(path.join(DIR, f), "utf8")) as { files: typeof files }).files);
let failed = false;
for (const [file, { mutants }] of Object.entries(files).sort()) {
  const counted = mutants.filter((m) => !["CompileError", "RuntimeError", "Ignored"].includes(m.status));
  const detected = counted.filter((m) => m.status === "Killed" || m.status === "Timeout").length;
  const score = counted.length ? (100 * detected) / counted.length : 100;
  const ok = score >= MIN_SCORE;
  failed ||= !ok;
  console.log(`${ok ? "ok  " : "LOW "} ${score.toFixed(1).padStart(5)} %  ${String(detected).padStart(4)}/${String(counted.length).padEnd(4)} ${file}`);
  if (!ok)
    for (const m of counted.filter((x) => x.status !== "Killed" && x.status !== "Timeout"))
      console.log(`       ${m.status} ${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} -> ${m.replacement ?? ""}`);
}
if (failed) {
  console.error(`a module scores under ${MIN_SCORE} %: add tests that kill its survivors (${DIR}/*.json)`);
  process.exit(1);
}
