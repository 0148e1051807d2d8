// Reads the registered kernel bugs (known-bugs/*.yaml), validates each file against KnownBugSchema and
// the set across files (unique ids, known case ids), and reports every problem as "file:line: field:
// what is wrong" so a bad registration never silently matches nothing.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LineCounter, parseDocument, type Node } from "yaml";
import { KnownBugSchema, type KnownBug } from "./known-bug-schema.ts";

/** known-bugs/ at the top of the repository. */
export const DEFAULT_KNOWN_BUGS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../known-bugs");

/** One or more problems in known-bugs files; the message has one "file:line: ..." line per problem. */
export class KnownBugsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "KnownBugsError";
  }
}

type Seg = PropertyKey;

/** The line of the deepest node that exists on `segs` (1 if none). */
export function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, segs: readonly Seg[]): number {
  for (let n = segs.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(segs.slice(0, n) as (string | number)[], true)) as Node | null | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

export const field = (segs: readonly Seg[]) => segs.map((s, i) => (typeof s === "number" ? `[${s}]` : `${i ? "." : ""}${String(s)}`)).join("");

/** Parse one file's text; `name` is how it is named in errors and in KnownBug.file. */
export function parseKnownBug(name: string, text: string): KnownBug {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new KnownBugsError(doc.errors.map((e) => `${name}:${lines.linePos(e.pos[0]).line}: YAML syntax error: ${e.message.split("\n")[0]}`));
  }
  const r = KnownBugSchema.safeParse(doc.toJS());
  if (!r.success) {
    throw new KnownBugsError(
      r.error.issues.map((i) => `${name}:${lineOf(doc, lines, i.path)}: ${i.path.length ? `${field(i.path)}: ` : ""}${i.message}`),
    );
  }
  return { ...r.data, file: name };
}

/**
 * Every *.yaml in `dir`, validated; `caseIds` (the catalog) to reject cases that do not exist.
 * A missing directory is no bugs; any invalid file throws KnownBugsError listing all problems.
 */
export async function loadKnownBugs(dir = DEFAULT_KNOWN_BUGS_DIR, caseIds?: readonly string[]): Promise<KnownBug[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const problems: string[] = [];
  const bugs: KnownBug[] = [];
  for (const name of names) {
    const shown = path.join(path.relative(process.cwd(), dir) || ".", name);
    const text = await readFile(path.join(dir, name), "utf8");
    try {
      const bug = parseKnownBug(shown, text);
      bugs.push({ ...bug, file: name });
      const lines = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lines });
      const dup = bugs.find((b) => b !== bugs.at(-1) && b.id === bug.id);
      if (dup) problems.push(`${shown}:${lineOf(doc, lines, ["id"])}: id: "${bug.id}" is already registered in ${dup.file}: ids must be unique`);
      bug.cases.forEach((c, i) => {
        if (caseIds && !caseIds.includes(c)) problems.push(`${shown}:${lineOf(doc, lines, ["cases", i])}: cases[${i}]: no case "${c}" in the catalog (pcshare list)`);
      });
    } catch (e) {
      if (e instanceof KnownBugsError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw new KnownBugsError(problems);
  return bugs;
}
