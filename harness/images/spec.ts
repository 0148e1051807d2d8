// Owns: loading images/*.yaml: YAML parsing (one parse per file, aliases limited against alias
// bombs), validation against the image schema (spec-schema.ts)
// with `file:line: field: problem` messages (each schema issue's path mapped to its YAML node's
// line), and the cross-image passes: unique names, `derive:` bases, `same:` references resolved into
// the referenced content (so an image's spec alone determines its bytes). See images/README.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { specFileSchema } from "./spec-schema.ts";
import type { Content, Entry, ImageSpec } from "./spec-types.ts";

export { parseSize } from "./spec-schema.ts";
export * from "./spec-types.ts";

/** A bad spec file: `file:line: field: problem` (no line for a problem of the whole file). */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${field ? `${field}: ` : ""}${problem}`);
    this.name = "SpecError";
  }
}

/** Alias uses a spec may expand (the yaml library's own default); more is an alias bomb. */
export const MAX_ALIAS_USES = 100;

type Seg = string | number;
const fieldName = (segs: Seg[]) =>
  segs.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");

/** One YAML file, parsed once: its data, and `line(segs)`, the line of the deepest existing node on a path. */
class Source {
  readonly lines = new LineCounter();
  readonly doc;
  readonly data: unknown;
  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const e = this.doc.errors[0];
    if (e) {
      const line = e.linePos?.[0]?.line ?? this.lines.linePos(e.pos[0]).line;
      const msg = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      throw new SpecError(file, line, "", `YAML syntax error: ${msg} (fix the YAML syntax)`);
    }
    try {
      this.data = this.doc.toJS({ maxAliasCount: MAX_ALIAS_USES });
    } catch (err) {
      if (!/alias/i.test((err as Error).message)) throw err;
      throw new SpecError(file, undefined, "", `YAML aliases expand too far (more than ${MAX_ALIAS_USES} alias uses: an alias bomb?); write the entries out instead`);
    }
  }
  /** Line of the key (`key: true`) or value at segs; falls back to the nearest ancestor. */
  line(segs: Seg[], key = false): number {
    let node: unknown = this.doc.contents;
    const lineOf = (n: unknown) => {
      const r = (n as Node | null)?.range;
      return r ? this.lines.linePos(r[0]).line : undefined;
    };
    let best = lineOf(node) ?? 1;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === s);
        if (!pair) return best;
        const last = i === segs.length - 1;
        best = (last && key ? lineOf(pair.key) : (lineOf(pair.value) ?? lineOf(pair.key))) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof s === "number") {
        node = node.items[s];
        best = lineOf(node) ?? best;
      } else return best;
    }
    return best;
  }
  err(segs: Seg[], problem: string, key = false): SpecError {
    return new SpecError(this.file, this.line(segs, key), fieldName(segs), problem);
  }
  /**
   * The error for a failed schema check. A misspelt key is the likeliest cause of any other issue (a
   * required field it leaves missing), so unknown keys are reported first; otherwise the first issue.
   */
  errFromIssues(issues: z.core.$ZodIssue[]): SpecError {
    const iss = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
    const segs = iss.path.map((s) => (typeof s === "symbol" ? String(s) : s));
    if (iss.code === "unrecognized_keys") return this.err([...segs, iss.keys[0]], iss.message, true);
    if (iss.code === "invalid_key") return this.err(segs, iss.issues[0]?.message ?? iss.message, true);
    return this.err(segs, iss.message, iss.code === "custom" && iss.params?.key === true);
  }
}

interface Raw {
  src: Source;
  segs: Seg[];
  line: number;
}

/** Parse and validate spec files together (names are global; `same:` and `derive:` may cross files). */
export function loadSpecs(files: string[]): Map<string, ImageSpec> {
  const raw = new Map<string, Raw>();
  const out = new Map<string, ImageSpec>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new SpecError(file, 0, "", `cannot read spec file: ${(err as Error).message}`);
    }
    const src = new Source(file, text);
    const r = specFileSchema.safeParse(src.data);
    if (!r.success) throw src.errFromIssues(r.error.issues);
    for (const [name, img] of Object.entries(r.data.images)) {
      const segs = ["images", name];
      const line = src.line(segs, true);
      const prev = raw.get(name);
      if (prev) throw src.err(segs, `image "${name}" is already defined at ${prev.src.file}:${prev.line}; rename one`, true);
      raw.set(name, { src, segs, line });
      out.set(name, toImageSpec(name, file, line, img as Parsed));
    }
  }
  resolveDerive(out, raw);
  resolveSame(out, raw);
  return out;
}

type Parsed = { derive: ImageSpec["derive"] } | { mkfs: ImageSpec["mkfs"]; files?: Entry[]; source?: { dir: string } | { tar: string } | ImageSpec["source"] };

/** The schema's output as an ImageSpec: source paths resolved against the spec file's directory. */
function toImageSpec(name: string, file: string, line: number, img: Parsed): ImageSpec {
  // a derived image gets its base's mkfs options and tree in resolveDerive
  if ("derive" in img) return { name, file, line, mkfs: undefined as unknown as ImageSpec["mkfs"], entries: [], derive: img.derive };
  const base = path.dirname(file);
  const s = img.source;
  const source = s && "dir" in s ? { dir: path.resolve(base, s.dir) } : s && "tar" in s ? { tar: path.resolve(base, s.tar) } : s;
  return { name, file, line, mkfs: img.mkfs, entries: img.files ?? [], source };
}

/** Give derived images their base's tree and mkfs options; check bases and value images exist; no cycles. */
function resolveDerive(images: Map<string, ImageSpec>, raw: Map<string, Raw>): void {
  const done = new Set<string>();
  const resolve = (img: ImageSpec, chain: string[]): void => {
    if (!img.derive || done.has(img.name)) return;
    const r = raw.get(img.name)!;
    const ds = [...r.segs, "derive"];
    if (img.derive.image === img.name) throw r.src.err([...ds, "image"], "an image cannot be derived from itself");
    if (chain.includes(img.name)) throw r.src.err([...ds, "image"], `derive cycle: ${[...chain, img.name].join(" -> ")}`);
    const base = images.get(img.derive.image);
    if (!base) throw r.src.err([...ds, "image"], `missing base image "${img.derive.image}" (known: ${[...images.keys()].join(", ")})`);
    const v = img.derive.args.value;
    if (v && "fingerprintOf" in v && v.image !== undefined && !images.has(v.image)) {
      throw r.src.err([...ds, "args", "value", "image"], `missing image "${v.image}" (known: ${[...images.keys()].join(", ")})`);
    }
    resolve(base, [...chain, img.name]);
    img.mkfs = base.mkfs;
    img.entries = base.entries;
    img.source = base.source;
    if (base.mkfs.fingerprint === null && !["badIsharePrefixId", "clearIshareCompat", "setIshareCompat"].includes(img.derive.mutation)) {
      throw r.src.err([...ds, "image"], `base image "${base.name}" has no fingerprints (fingerprint: false); mutation ${img.derive.mutation} needs them`);
    }
    done.add(img.name);
  };
  for (const img of images.values()) resolve(img, []);
}

/** Replace each `same:` placeholder with the referenced file's content; detect missing refs and cycles. */
function resolveSame(
  images: Map<string, ImageSpec>,
  raw: Map<string, Raw>,
): void {
  type FileEntry = Extract<Entry, { kind: "file" }>;
  const state = new Map<FileEntry, "busy" | "done">();
  const locate = (img: ImageSpec, e: Entry) => {
    const r = raw.get(img.name)!;
    return { src: r.src, segs: [...r.segs, "files", img.entries.indexOf(e), "same"] as Seg[] };
  };
  const resolve = (img: ImageSpec, e: FileEntry, chain: string[]): Content => {
    if (!e.sameAs || state.get(e) === "done") return e.content;
    const here = `${img.name}:${e.path}`;
    const { src, segs } = locate(img, e);
    if (state.get(e) === "busy") throw src.err(segs, `reference cycle: ${[...chain, here].join(" -> ")}; one of them needs gen:`);
    state.set(e, "busy");
    const targetName = e.sameAs.image || img.name;
    const target = images.get(targetName);
    if (!target) throw src.err([...segs, "image"], `missing referenced image "${targetName}" (known: ${[...images.keys()].join(", ")})`);
    const t = target.entries.find((x) => x.path === e.sameAs!.path);
    if (!t) throw src.err([...segs, "path"], `missing referenced path ${e.sameAs.path} in image "${targetName}"`);
    if (t.kind !== "file") throw src.err([...segs, "path"], `${targetName}:${e.sameAs.path} is a ${t.kind}, not a regular file`);
    e.content = resolve(target, t, [...chain, here]);
    e.sameAs = { image: targetName, path: e.sameAs.path };
    state.set(e, "done");
    return e.content;
  };
  for (const img of images.values()) for (const e of img.entries) if (e.kind === "file") resolve(img, e, []);
}
