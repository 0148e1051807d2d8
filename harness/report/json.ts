// results.json: the canonical, re-readable form of a RunResult. Writing is atomic (temp file + rename);
// reading checks the "schema" field and the shape the exporters rely on, and names the file on error.
import { readFile, rename, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { OUTCOMES, type RunResult } from "./model.ts";

export const RESULTS_SCHEMA: RunResult["schema"] = "pcshare-results/1";
export const RESULTS_FILE = "results.json";

/** Raised by readResults/parseResults; the message starts with the file name. */
export class ResultsFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "ResultsFileError";
  }
}

/** The JSON text of a run (2-space indented, trailing newline). */
export function toJson(run: RunResult): string {
  return JSON.stringify(run, null, 2) + "\n";
}

/** Write `run` to `file` atomically (a reader never sees half a file). */
export async function writeResults(run: RunResult, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, toJson(run));
  await rename(tmp, file);
}

/** Read and validate a results.json. Throws ResultsFileError naming `file` if it is not one. */
export async function readResults(file: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ResultsFileError(file, `cannot read results file (${(e as Error).message})`);
  }
  return parseResults(text, file);
}

/** Parse and validate results JSON text; `source` names it in errors. */
export function parseResults(text: string, source = "results.json"): RunResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ResultsFileError(source, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(data)) throw new ResultsFileError(source, "not a pcshare results file (top level is not an object)");
  if (!("schema" in data))
    throw new ResultsFileError(source, `not a pcshare results file (no "schema" field; expected "${RESULTS_SCHEMA}")`);
  if (data.schema !== RESULTS_SCHEMA)
    throw new ResultsFileError(
      source,
      `unsupported results schema ${JSON.stringify(data.schema)} (this pcshare reads "${RESULTS_SCHEMA}")`,
    );
  const problem = shapeProblem(data);
  if (problem) throw new ResultsFileError(source, `malformed results (${problem})`);
  return data as unknown as RunResult;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** First structural problem found, or undefined. Checks what the exporters dereference. */
function shapeProblem(d: Record<string, unknown>): string | undefined {
  for (const k of ["startedAt", "finishedAt"]) if (typeof d[k] !== "string") return `"${k}" is not a string`;
  for (const k of ["host", "kernel", "tools"]) if (!isObject(d[k])) return `"${k}" is not an object`;
  const kernel = d.kernel as Record<string, unknown>;
  for (const k of ["hashes", "config"]) if (!isObject(kernel[k])) return `"kernel.${k}" is not an object`;
  if (!Array.isArray(d.cases)) return `"cases" is not an array`;
  for (const [i, c] of d.cases.entries()) {
    const at = `cases[${i}]`;
    if (!isObject(c)) return `${at} is not an object`;
    if (typeof c.id !== "string" || typeof c.name !== "string") return `${at} has no string "id"/"name"`;
    if (!OUTCOMES.includes(c.outcome as never))
      return `${at} (${c.id}) has outcome ${JSON.stringify(c.outcome)}, not one of ${OUTCOMES.join("|")}`;
    if (typeof c.durationMs !== "number") return `${at} (${c.id}) "durationMs" is not a number`;
    for (const k of ["groups", "tags", "checks", "measurements", "crashes", "findings"])
      if (!Array.isArray(c[k])) return `${at} (${c.id}) "${k}" is not an array`;
    if (!isObject(c.artifacts)) return `${at} (${c.id}) "artifacts" is not an object`;
  }
  return undefined;
}
