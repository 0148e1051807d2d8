// Entry point of the reporters: render a RunResult in any format, or write the chosen formats into a
// results directory (results.json, results.ktap, junit.xml, kcidb.json, report.md, report.html).
// Every format is a pure function of the RunResult, so `pcshare report results.json` can redo them.
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RunResult } from "./model.ts";
import { toJson } from "./json.ts";
import { renderKtap } from "./ktap.ts";
import { renderJunit } from "./junit.ts";
import { renderKcidb, type KcidbOptions } from "./kcidb.ts";
import { pathToFileURL } from "node:url";
import { renderMarkdown } from "./markdown.ts";
import { renderHtml } from "./html.ts";

export type ReportFormat = "json" | "ktap" | "junit" | "kcidb" | "md" | "html";
export const REPORT_FORMATS: readonly ReportFormat[] = ["json", "ktap", "junit", "kcidb", "md", "html"];

/** File name of each format inside the results directory. */
export const REPORT_FILES: Readonly<Record<ReportFormat, string>> = {
  json: "results.json",
  ktap: "results.ktap",
  junit: "junit.xml",
  kcidb: "kcidb.json",
  md: "report.md",
  html: "report.html",
};

/** What some formats need beyond the RunResult: where the results directory is (KCIDB links its files). */
export type ReportOptions = KcidbOptions;

const RENDERERS: Readonly<Record<ReportFormat, (run: RunResult, opts: ReportOptions) => string>> = {
  json: toJson,
  ktap: renderKtap,
  junit: renderJunit,
  kcidb: renderKcidb,
  md: renderMarkdown,
  html: renderHtml,
};

const ALIASES: Readonly<Record<string, ReportFormat>> = { markdown: "md", xml: "junit", tap: "ktap" };

/** Parse a format name as typed on the command line ("md", "markdown", "junit", ...). */
export function parseReportFormat(name: string): ReportFormat {
  const n = name.trim().toLowerCase();
  if ((REPORT_FORMATS as readonly string[]).includes(n)) return n as ReportFormat;
  if (n in ALIASES) return ALIASES[n];
  throw new Error(`unknown report format "${name}" (one of: ${REPORT_FORMATS.join(", ")})`);
}

/** The text of `run` in `format`. */
export function renderReport(run: RunResult, format: ReportFormat, opts: ReportOptions = {}): string {
  return RENDERERS[format](run, opts);
}

/**
 * Write `formats` of `run` into `outDir` (created if needed), each atomically (temp file + rename).
 * Returns the path written for each requested format.
 */
export async function writeReports(
  run: RunResult,
  outDir: string,
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): Promise<Partial<Record<ReportFormat, string>>> {
  await mkdir(outDir, { recursive: true });
  const written: Partial<Record<ReportFormat, string>> = {};
  for (const f of new Set(formats)) {
    const file = path.join(outDir, REPORT_FILES[f]);
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, renderReport(run, f, { resultsUrl: pathToFileURL(path.resolve(outDir)).href + "/" }));
    await rename(tmp, file);
    written[f] = file;
  }
  return written;
}

export { readResults, writeResults, parseResults, ResultsFileError, RESULTS_FILE, RESULTS_SCHEMA } from "./json.ts";
