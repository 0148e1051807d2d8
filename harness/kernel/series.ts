// Patch series to apply on a source tree before building: an mbox (as `b4 am` writes it or a list
// archive serves it), one patch file, a directory of .patch files (in the order of its quilt-style
// `series` file if present, else by name), or a git range `A..B` of a git tree. Parses mail itself
// (From_ separators, folded and encoded headers, [PATCH v3 2/7] prefixes) and applies with patch(1),
// turning a failure into an error naming the patch and the failing hunk.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { sha256Hex } from "../util/hash.ts";

export interface Patch {
  /** 1-based position in the series. */
  index: number;
  subject: string;
  messageId?: string;
  author?: string;
  /** Where it came from: a file path, or "<range>" for git ranges. */
  origin: string;
  /** The unified diff given to patch(1). */
  diff: string;
  /** Paths (relative to the tree top) the diff reads or writes. */
  files: string[];
}

export interface Series {
  /** What the user gave (path or range). */
  spec: string;
  patches: Patch[];
  /** sha256 over the patch diffs, in order: names the patched source. */
  hash: string;
}

export class PatchApplyError extends Error {
  readonly patch: Patch;
  readonly total: number;
  readonly output: string;
  constructor(patch: Patch, total: number, detail: string, output: string) {
    super(`patch ${patch.index}/${total} "${patch.subject}" (${patch.origin}) does not apply: ${detail}`);
    this.name = "PatchApplyError";
    this.patch = patch;
    this.total = total;
    this.output = output;
  }
}

// ---------------------------------------------------------------------------------------------
// Mail parsing

interface Message {
  headers: Map<string, string>;
  body: string;
}

/** Split an mbox into messages: a "From " line at the start or after a blank line starts one. */
export function splitMbox(text: string): string[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const out: string[][] = [];
  let cur: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("From ") && (i === 0 || lines[i - 1] === "")) {
      cur = [];
      out.push(cur);
      continue;
    }
    if (!cur) {
      // Text before the first From_ line: a single mail without envelope line (e.g. a .patch file).
      cur = [];
      out.push(cur);
    }
    cur.push(l.replace(/^>(>*From )/, "$1"));
  }
  return out.map((m) => m.join("\n")).filter((m) => m.trim() !== "");
}

function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset: string, enc: string, data: string) => {
      const bytes =
        enc.toUpperCase() === "B"
          ? Buffer.from(data, "base64")
          : Buffer.from(data.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
      return /utf-?8/i.test(charset) ? bytes.toString("utf8") : bytes.toString("latin1");
    });
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = (encoding ?? "").trim().toLowerCase();
  if (e === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (e === "quoted-printable") {
    const bin = body.replace(/=\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bin, "latin1").toString("utf8");
  }
  return body;
}

export function parseMessage(raw: string): Message {
  const lines = raw.split("\n");
  const headers = new Map<string, string>();
  let i = 0;
  let last: string | undefined;
  // A chunk that does not start with headers (a bare diff) has none.
  if (!/^[A-Za-z0-9-]+:/.test(lines[0] ?? "")) return { headers, body: raw };
  for (; i < lines.length && lines[i] !== ""; i++) {
    const l = lines[i];
    if (/^[ \t]/.test(l) && last) {
      headers.set(last, `${headers.get(last)} ${l.trim()}`.trim());
      continue;
    }
    const m = l.match(/^([A-Za-z0-9-]+):\s?(.*)$/);
    if (!m) break;
    last = m[1].toLowerCase();
    if (!headers.has(last)) headers.set(last, m[2].trim());
  }
  const body = decodeBody(lines.slice(i + 1).join("\n"), headers.get("content-transfer-encoding"));
  return { headers, body };
}

/** "[PATCH v3 2/7] erofs: x" -> { subject: "erofs: x", number: 2, total: 7 }. */
export function cleanSubject(raw: string): { subject: string; number?: number; total?: number } {
  let s = decodeWords(raw).replace(/\s+/g, " ").trim();
  let number: number | undefined;
  let total: number | undefined;
  for (;;) {
    const re = s.match(/^(?:re|fwd?):\s*/i);
    if (re) {
      s = s.slice(re[0].length);
      continue;
    }
    const m = s.match(/^\[([^\]]*)\]\s*/);
    if (!m) break;
    const n = m[1].match(/(\d+)\/(\d+)/);
    if (n) {
      number = Number(n[1]);
      total = Number(n[2]);
    }
    s = s.slice(m[0].length);
  }
  return { subject: s, number, total };
}

/** The unified diff part of a message body (from the first diff header to the signature). */
export function extractDiff(body: string): string | undefined {
  const lines = body.split("\n");
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("diff --git ") || (lines[i].startsWith("--- ") && lines[i + 1]?.startsWith("+++ "))) {
      start = i;
      break;
    }
  }
  if (start < 0) return undefined;
  let end = lines.length;
  for (let i = start; i < lines.length; i++) {
    if (lines[i] === "-- " || lines[i] === "--") {
      end = i;
      break;
    }
  }
  const diff = lines.slice(start, end).join("\n").replace(/\n*$/, "\n");
  return /^@@ /m.test(diff) || /^(rename|new file|deleted file) /m.test(diff) ? diff : undefined;
}

function stripComponent(p: string): string | undefined {
  const clean = p.split("\t")[0].trim().replace(/^"(.*)"$/, "$1");
  if (clean === "/dev/null") return undefined;
  const i = clean.indexOf("/");
  return i < 0 ? clean : clean.slice(i + 1);
}

/** Files a diff touches (with -p1), both sides of renames. */
export function diffFiles(diff: string): string[] {
  const files = new Set<string>();
  for (const l of diff.split("\n")) {
    let m = l.match(/^(?:---|\+\+\+) (.+)$/);
    if (m) {
      const f = stripComponent(m[1]);
      if (f) files.add(f);
      continue;
    }
    m = l.match(/^(?:rename|copy) (?:from|to) (.+)$/);
    if (m) files.add(m[1].trim());
  }
  return [...files];
}

interface RawPatch {
  subject: string;
  number?: number;
  messageId?: string;
  author?: string;
  origin: string;
  diff: string;
}

/** The patches in an mbox (or a single mail / bare diff), cover letters and replies without diffs skipped. */
export function parseMbox(text: string, origin: string): RawPatch[] {
  const out: RawPatch[] = [];
  for (const raw of splitMbox(text)) {
    const msg = parseMessage(raw);
    const diff = extractDiff(msg.body);
    if (!diff) continue;
    const subj = cleanSubject(msg.headers.get("subject") ?? path.basename(origin));
    const id = msg.headers.get("message-id")?.replace(/^<|>$/g, "").trim();
    const from = msg.headers.get("from");
    out.push({
      subject: subj.subject || path.basename(origin),
      number: subj.number,
      messageId: id || undefined,
      author: from ? decodeWords(from) : undefined,
      origin,
      diff,
    });
  }
  // A list archive's thread mbox is in thread order; numbered patches go by their number.
  if (out.length > 1 && out.every((p) => p.number !== undefined)) {
    const seen = new Map<number, RawPatch>();
    for (const p of out) {
      if (seen.has(p.number!)) {
        throw new Error(`${origin}: two patches numbered ${p.number} ("${seen.get(p.number!)!.subject}" and "${p.subject}"); keep one version of the series (b4 am does)`);
      }
      seen.set(p.number!, p);
    }
    out.sort((a, b) => a.number! - b.number!);
  }
  return out;
}

function finish(spec: string, raws: RawPatch[]): Series {
  if (raws.length === 0) throw new Error(`series ${spec}: no patches found (no unified diff in it)`);
  const patches = raws.map((r, i) => ({
    index: i + 1,
    subject: r.subject,
    messageId: r.messageId,
    author: r.author,
    origin: r.origin,
    diff: r.diff,
    files: diffFiles(r.diff),
  }));
  return { spec, patches, hash: sha256Hex(patches.map((p) => p.diff).join("\0")) };
}

/**
 * Load a series: a file (mbox, mail or bare diff), a directory of *.patch / *.diff / *.mbox files,
 * or a git range `A..B` in `tree` (a git checkout).
 */
export async function loadSeries(spec: string, tree?: { dir: string; git: boolean }): Promise<Series> {
  let st;
  try {
    st = await stat(spec);
  } catch {
    st = undefined;
  }
  if (st?.isFile()) return finish(spec, parseMbox(await readFile(spec, "utf8"), path.basename(spec)));
  if (st?.isDirectory()) {
    let names: string[];
    try {
      names = (await readFile(path.join(spec, "series"), "utf8"))
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim().split(/\s+/)[0])
        .filter(Boolean);
    } catch {
      names = (await readdir(spec)).filter((f) => /\.(patch|diff|mbox|eml)$/.test(f)).sort();
    }
    const raws: RawPatch[] = [];
    for (const n of names) raws.push(...parseMbox(await readFile(path.join(spec, n), "utf8"), n));
    return finish(spec, raws);
  }
  if (/\.\./.test(spec)) {
    if (!tree?.git) throw new Error(`series ${spec}: a git range needs --tree pointing at a git checkout`);
    const r = await execa("git", ["-C", tree.dir, "format-patch", "--stdout", "--no-signature", "--no-stat", spec], {
      reject: false,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.exitCode !== 0) throw new Error(`series ${spec}: git format-patch failed: ${r.stderr.trim()}`);
    return finish(spec, parseMbox(r.stdout, spec));
  }
  throw new Error(`series ${spec}: no such file or directory (give an mbox, a .patch, a directory of patches, or A..B in a git --tree)`);
}

// ---------------------------------------------------------------------------------------------
// Applying

/** The hunk headers of each file section of a diff, keyed by the -p1 path of the new (or old) file. */
export function hunkHeaders(diff: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = diff.split("\n");
  let cur: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ")) {
      const f = stripComponent(lines[i + 1].slice(4)) ?? stripComponent(l.slice(4)) ?? "?";
      cur = [];
      out.set(f, cur);
      i++;
    } else if (l.startsWith("@@ ") && cur) {
      cur.push(l.match(/^@@ [^@]* @@/)?.[0] ?? l);
    }
  }
  return out;
}

/** What went wrong, in one line, from patch(1)'s output: file, hunk number and header. */
export function describeFailure(output: string, diff: string): string {
  const hunks = hunkHeaders(diff);
  const problems: string[] = [];
  let file = "";
  for (const l of output.split("\n")) {
    const pf = l.match(/^(?:patching|checking) file (.+)$/);
    if (pf) {
      file = pf[1].trim().replace(/^'(.*)'$/, "$1");
      continue;
    }
    const h = l.match(/^Hunk #(\d+) FAILED at (\d+)/);
    if (h) {
      const header = hunks.get(file)?.[Number(h[1]) - 1];
      problems.push(`${file}: hunk #${h[1]}${header ? ` ${header}` : ""} FAILED (expected near line ${h[2]})`);
      continue;
    }
    if (/can't find file to patch/.test(l)) problems.push(`file to patch not found${file ? ` (${file})` : ""}`);
    else if (/Reversed \(or previously applied\) patch detected/.test(l)) problems.push(`${file}: already applied or reversed`);
    else if (/malformed patch|Only garbage/.test(l)) problems.push(l.replace(/^patch: \*\*\*\* /, "").trim());
  }
  if (problems.length === 0) {
    const m = output.match(/^(\S+): No such file or directory/m);
    if (m) problems.push(`${m[1]} missing`);
  }
  return problems.length ? problems.join("; ") : output.trim().split("\n").slice(-3).join(" | ");
}

/**
 * Apply the series in order to `dir` with `patch -p1 --batch --forward` (no backups, rejects
 * discarded). Throws PatchApplyError for the first patch that does not apply cleanly.
 * Returns patch(1)'s output per patch (offsets and fuzz are reported there).
 */
export async function applySeries(series: Series, dir: string): Promise<string[]> {
  const logs: string[] = [];
  for (const p of series.patches) {
    const r = await execa("patch", ["-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-r", "-", "-d", dir], {
      input: p.diff,
      reject: false,
      all: true,
      env: { LC_ALL: "C" },
    });
    const out = r.all ?? "";
    if (r.exitCode !== 0) throw new PatchApplyError(p, series.patches.length, describeFailure(out, p.diff), out);
    logs.push(out);
  }
  return logs;
}
