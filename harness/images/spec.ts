// Owns: the YAML image-spec format (images/*.yaml): parsing, validation with file:line messages,
// and normalization into self-contained ImageSpec objects (cross-image `same:` references resolved
// into the referenced content, so an image's spec alone determines its bytes). See images/README.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from "yaml";
import { MUTATIONS, type MutationArgs } from "./erofs/mutate.ts";
import { KEY_LAYOUTS, type KeyLayout } from "./erofs/collide.ts";

export const COMPRESSORS = ["none", "lz4", "lz4hc", "lzma", "deflate", "libdeflate", "zstd"] as const;
export type Compressor = (typeof COMPRESSORS)[number];
export const BLOCK_SIZES = [512, 1024, 2048, 4096] as const;
export const GENERATORS = ["random", "text", "zeros", "empty", "sparse", "dir", "deep-dirs", "many-files"] as const;
export type Generator = (typeof GENERATORS)[number];

/** Bytes of one regular file; depends only on these fields (never on the path or image). */
export type Content =
  | { gen: "random" | "text"; size: number; seed: number }
  | { gen: "zeros"; size: number }
  | { gen: "empty" }
  | { gen: "sparse"; size: number; seed: number; holes: Extent[] };
export interface Extent {
  at: number;
  size: number;
}

export type Entry =
  | { kind: "file"; path: string; content: Content; mode?: number; sameAs?: { image: string; path: string } }
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "hardlink"; path: string; target: string }
  | { kind: "deep-dirs"; path: string; depth: number; size: number; seed: number }
  | { kind: "many-files"; path: string; count: number; size: number; seed: number; content: "random" | "text"; perDir: number };

export interface MkfsSpec {
  compress: Compressor;
  level?: number;
  blockSize: number;
  chunkSize?: number;
  pclusterSize?: number;
  tar: boolean;
  /** xattr name for --xattr-inode-digest, "" for mkfs's default name, null = no fingerprints */
  fingerprint: string | null;
  extra: string[];
  blobdev: boolean;
}

export interface ImageSpec {
  name: string;
  /** spec file (as given) and the line of the image's key, for messages */
  file: string;
  line: number;
  /** For a derived image: the base's (its tree is the base's; only the bytes the mutation touches differ). */
  mkfs: MkfsSpec;
  entries: Entry[];
  source?: { dir: string } | { tar: string } | { npm: NpmSource };
  /** Set for `derive:` images: built by applying a registered mutation to the base image's bytes. */
  derive?: DeriveSpec;
}

/**
 * A fingerprint value for a mutation, resolved at build time: literal bytes, or the raw fingerprint xattr
 * value another file carries in a built image (default: the base), with optional bytes before/after.
 */
export type ValueSpec = { hex: string } | { text: string } | { fingerprintOf: string; image?: string; prefix?: string; suffix?: string };

/** Mutation arguments as written in the spec (value still symbolic). */
export type DeriveArgs = Omit<MutationArgs, "value"> & { value?: ValueSpec };

export interface DeriveSpec {
  /** the base image (any image of the loaded specs, derived ones too) */
  image: string;
  /** a key of MUTATIONS (harness/images/erofs/mutate.ts) */
  mutation: string;
  args: DeriveArgs;
}

/** A published npm package tarball, fetched once at build time (`npm pack`) and cached by name+version. */
export interface NpmSource {
  package: string;
  /** An exact version (published tarballs never change), e.g. 4.17.21; no ranges or tags. */
  version: string;
}

export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${field ? `${field}: ` : ""}${problem}`);
    this.name = "SpecError";
  }
}

const UNIT: Record<string, number> = { "": 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const MAX_SIZE = 64 * 1024 ** 3;

/** "8MiB" -> 8388608; numbers are bytes. Undefined when malformed. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 && v <= MAX_SIZE ? v : undefined;
  if (typeof v !== "string") return undefined;
  const m = v.trim().match(/^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/);
  if (!m) return undefined;
  const n = Number(m[1]) * UNIT[m[2] ?? ""];
  return Number.isSafeInteger(n) && n <= MAX_SIZE ? n : undefined;
}

type Seg = string | number;
const fieldName = (segs: Seg[]) =>
  segs.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");

/** Reads one YAML file; `at(segs)` gives the line of the deepest existing node on a path. */
class Source {
  readonly lines = new LineCounter();
  readonly doc;
  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const e = this.doc.errors[0];
    if (e) {
      const line = e.linePos?.[0]?.line ?? this.lines.linePos(e.pos[0]).line;
      const msg = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      throw new SpecError(file, line, "", `YAML syntax error: ${msg} (fix the YAML syntax)`);
    }
  }
  /** Line of the key (`key: true`) or value at segs; falls back to the nearest ancestor. */
  line(segs: Seg[], key = false): number {
    let node: unknown = this.doc.contents;
    let best = 1;
    const lineOf = (n: unknown) => {
      const r = (n as Node | null)?.range;
      return r ? this.lines.linePos(r[0]).line : undefined;
    };
    best = lineOf(node) ?? best;
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
}

const IMAGE_KEYS = ["mkfs", "files", "source"];
const DERIVE_KEYS = ["image", "mutation", "args"];
const DERIVE_ARG_KEYS = ["path", "fromPath", "value", "id", "valueSize", "domainId", "keyLayout", "seed", "method"];
const MKFS_KEYS = ["compress", "level", "blockSize", "chunkSize", "pclusterSize", "tar", "fingerprint", "extra", "blobdev"];
const COMMON_FILE_KEYS = ["path", "mode"];
const GEN_KEYS: Record<Generator, string[]> = {
  random: ["size", "seed"],
  text: ["size", "seed"],
  zeros: ["size"],
  empty: [],
  sparse: ["size", "seed", "holes", "pattern"],
  dir: [],
  "deep-dirs": ["depth", "size", "seed"],
  "many-files": ["count", "size", "seed", "content", "perDir"],
};
const KIND_KEYS = ["gen", "hardlink", "symlink", "same"];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parse and validate spec files together (names are global; `same:` may cross files). */
export function loadSpecs(files: string[]): Map<string, ImageSpec> {
  const raw = new Map<string, { src: Source; segs: Seg[]; value: Record<string, unknown>; line: number }>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new SpecError(file, 0, "", `cannot read spec file: ${(err as Error).message}`);
    }
    const src = new Source(file, text);
    const top = src.doc.toJS();
    if (!isObj(top)) throw src.err([], 'the spec must be a mapping with an "images:" key');
    for (const k of Object.keys(top)) if (k !== "images") throw src.err([k], `unknown key (expected: images)`, true);
    if (!isObj(top.images)) throw src.err(["images"], "must be a mapping of image name to image spec");
    for (const [name, value] of Object.entries(top.images)) {
      const segs = ["images", name];
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
        throw src.err(segs, `bad image name (use letters, digits, ".", "_", "-"; at most 64 characters)`, true);
      }
      const prev = raw.get(name);
      if (prev) throw src.err(segs, `image "${name}" is already defined at ${prev.src.file}:${prev.line}; rename one`, true);
      if (!isObj(value)) throw src.err(segs, "must be a mapping with mkfs:, files: and optionally source: (or derive:)");
      raw.set(name, { src, segs, value, line: src.line(segs, true) });
    }
  }
  const out = new Map<string, ImageSpec>();
  for (const [name, r] of raw) out.set(name, parseImage(name, r.src, r.segs, r.value, r.line));
  resolveDerive(out, raw);
  resolveSame(out, raw);
  return out;
}

/** A derived image: `derive: { image, mutation, args }` and nothing else. */
function parseDerive(name: string, src: Source, segs: Seg[], v: Record<string, unknown>, line: number): ImageSpec {
  for (const k of Object.keys(v)) {
    if (k !== "derive") throw src.err([...segs, k], `a derived image takes its tree and mkfs options from derive.image; remove "${k}"`, true);
  }
  const ds = [...segs, "derive"];
  const d = v.derive;
  if (!isObj(d)) throw src.err(ds, "must be { image: BASE, mutation: NAME, args: { ... } }");
  unknownKeys(src, ds, d, DERIVE_KEYS);
  if (typeof d.image !== "string" || !d.image) throw src.err([...ds, "image"], "missing required field image (the name of the base image)");
  if (d.image === name) throw src.err([...ds, "image"], "an image cannot be derived from itself");
  if (typeof d.mutation !== "string" || !MUTATIONS[d.mutation]) {
    throw src.err([...ds, "mutation"], `unknown mutation ${JSON.stringify(d.mutation)} (expected one of: ${Object.keys(MUTATIONS).join(", ")})`);
  }
  const mutation = MUTATIONS[d.mutation];
  const as = [...ds, "args"];
  const a = d.args ?? {};
  if (!isObj(a)) throw src.err(as, "must be a mapping of mutation arguments, e.g. { path: /x, fromPath: /y }");
  unknownKeys(src, as, a, DERIVE_ARG_KEYS);
  for (const need of mutation.needs) {
    if (a[need] === undefined) throw src.err(as, `mutation ${d.mutation} needs ${need} (it needs: ${mutation.needs.join(", ")})`);
  }
  const args: DeriveArgs = {};
  for (const k of ["path", "fromPath"] as const) {
    if (a[k] === undefined) continue;
    const why = typeof a[k] === "string" ? badPath(a[k] as string) : "must be a string";
    if (why) throw src.err([...as, k], `bad path ${JSON.stringify(a[k])}: ${why}`);
    args[k] = a[k] as string;
  }
  const int = (k: "id" | "valueSize" | "seed", max: number) => {
    if (a[k] === undefined) return;
    if (!Number.isSafeInteger(a[k]) || (a[k] as number) < 0 || (a[k] as number) > max) {
      throw src.err([...as, k], `bad ${k} ${JSON.stringify(a[k])} (expected an integer from 0 to ${max})`);
    }
    args[k] = a[k] as number;
  };
  int("id", 0xff);
  int("valueSize", 0xffff);
  int("seed", 2 ** 32 - 1);
  if (a.domainId !== undefined) {
    if (typeof a.domainId !== "string" || !a.domainId || /[,\0]/.test(a.domainId)) {
      throw src.err([...as, "domainId"], `bad domainId ${JSON.stringify(a.domainId)} (a non-empty string without "," or NUL, as mount -o domain_id= takes it)`);
    }
    args.domainId = a.domainId;
  }
  if (a.keyLayout !== undefined) {
    if (!KEY_LAYOUTS.includes(a.keyLayout as KeyLayout)) throw src.err([...as, "keyLayout"], `unknown key layout ${JSON.stringify(a.keyLayout)} (expected one of: ${KEY_LAYOUTS.join(", ")})`);
    args.keyLayout = a.keyLayout as KeyLayout;
  }
  if (a.method !== undefined) {
    if (a.method !== "inversion" && a.method !== "birthday") throw src.err([...as, "method"], `unknown method ${JSON.stringify(a.method)} (expected inversion or birthday)`);
    args.method = a.method;
  }
  if (a.value !== undefined) args.value = parseValue(src, [...as, "value"], a.value);
  return { name, file: src.file, line, mkfs: undefined as unknown as MkfsSpec, entries: [], derive: { image: d.image, mutation: d.mutation, args } };
}

function parseValue(src: Source, segs: Seg[], v: unknown): ValueSpec {
  const shape = '{ hex: "..." }, { text: "..." } or { fingerprintOf: /path, image: NAME, prefix: "...", suffix: "..." }';
  if (!isObj(v)) throw src.err(segs, `must be ${shape}`);
  if (v.hex !== undefined) {
    unknownKeys(src, segs, v, ["hex"]);
    if (typeof v.hex !== "string" || !/^([0-9a-fA-F]{2})+$/.test(v.hex)) throw src.err([...segs, "hex"], "must be an even number of hex digits");
    return { hex: v.hex.toLowerCase() };
  }
  if (v.text !== undefined) {
    unknownKeys(src, segs, v, ["text"]);
    if (typeof v.text !== "string" || !v.text) throw src.err([...segs, "text"], 'must be a non-empty string (YAML double quotes allow "\\0" for NUL)');
    return { text: v.text };
  }
  if (v.fingerprintOf !== undefined) {
    unknownKeys(src, segs, v, ["fingerprintOf", "image", "prefix", "suffix"]);
    const why = typeof v.fingerprintOf === "string" ? badPath(v.fingerprintOf) : "must be a string";
    if (why) throw src.err([...segs, "fingerprintOf"], `bad path ${JSON.stringify(v.fingerprintOf)}: ${why}`);
    for (const k of ["image", "prefix", "suffix"]) {
      if (v[k] !== undefined && typeof v[k] !== "string") throw src.err([...segs, k], "must be a string");
    }
    return { fingerprintOf: v.fingerprintOf as string, image: v.image as string | undefined, prefix: v.prefix as string | undefined, suffix: v.suffix as string | undefined };
  }
  throw src.err(segs, `must be ${shape}`);
}

/** Give derived images their base's tree and mkfs options; check bases and value images exist; no cycles. */
function resolveDerive(images: Map<string, ImageSpec>, raw: Map<string, { src: Source; segs: Seg[] }>): void {
  const done = new Set<string>();
  const resolve = (img: ImageSpec, chain: string[]): void => {
    if (!img.derive || done.has(img.name)) return;
    const r = raw.get(img.name)!;
    const ds = [...r.segs, "derive"];
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

function parseImage(name: string, src: Source, segs: Seg[], v: Record<string, unknown>, line: number): ImageSpec {
  if (v.derive !== undefined) return parseDerive(name, src, segs, v, line);
  unknownKeys(src, segs, v, IMAGE_KEYS);
  const mkfs = parseMkfs(src, [...segs, "mkfs"], v.mkfs ?? {});
  let source: ImageSpec["source"];
  if (v.source !== undefined) {
    const s = v.source;
    const ss = [...segs, "source"];
    if (!isObj(s) || Object.keys(s).length !== 1 || !(typeof s.dir === "string" || typeof s.tar === "string" || isObj(s.npm))) {
      throw src.err(ss, "must be { dir: ./path }, { tar: ./file.tar } (relative to the spec file) or { npm: { package: NAME, version: X.Y.Z } }");
    }
    const base = path.dirname(src.file);
    if (isObj(s.npm)) source = { npm: parseNpm(src, [...ss, "npm"], s.npm) };
    else source = typeof s.dir === "string" ? { dir: path.resolve(base, s.dir) } : { tar: path.resolve(base, s.tar as string) };
  }
  if (v.files !== undefined && !Array.isArray(v.files)) throw src.err([...segs, "files"], "must be a list of file entries");
  const list = (v.files as unknown[] | undefined) ?? [];
  if (!list.length && !source) throw src.err([...segs, "files"], "missing required field (an image needs files: or source:)", !!v.files);
  const entries = list.map((e, i) => parseEntry(src, [...segs, "files", i], e));
  checkPaths(src, [...segs, "files"], entries);
  return { name, file: src.file, line, mkfs, entries, source };
}

function parseNpm(src: Source, segs: Seg[], v: Record<string, unknown>): NpmSource {
  unknownKeys(src, segs, v, ["package", "version"]);
  if (typeof v.package !== "string" || !/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,213}$/.test(v.package)) {
    throw src.err([...segs, "package"], `bad npm package name ${JSON.stringify(v.package)} (e.g. lodash or @scope/name)`);
  }
  if (typeof v.version !== "string" || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v.version)) {
    throw src.err([...segs, "version"], `bad version ${JSON.stringify(v.version)} (an exact published version like "4.17.21", quoted; no ranges or tags)`);
  }
  return { package: v.package, version: v.version };
}

function unknownKeys(src: Source, segs: Seg[], v: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw src.err([...segs, k], `unknown key "${k}" (expected one of: ${allowed.join(", ")})`, true);
  }
}

function parseMkfs(src: Source, segs: Seg[], v: unknown): MkfsSpec {
  if (!isObj(v)) throw src.err(segs, "must be a mapping, e.g. { compress: lz4hc, blockSize: 4096 }");
  unknownKeys(src, segs, v, MKFS_KEYS);
  const compress = (v.compress ?? "none") as Compressor;
  if (!COMPRESSORS.includes(compress)) {
    throw src.err([...segs, "compress"], `unknown compressor "${String(v.compress)}" (expected one of: ${COMPRESSORS.join(", ")})`);
  }
  const blockSize = v.blockSize === undefined ? 4096 : parseSize(v.blockSize);
  if (!BLOCK_SIZES.includes(blockSize as never)) {
    throw src.err([...segs, "blockSize"], `bad block size ${JSON.stringify(v.blockSize)} (expected one of: ${BLOCK_SIZES.join(", ")}; x86_64 guests mount at most 4096)`);
  }
  const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
  const opt = (key: string, check: (n: number) => boolean, want: string): number | undefined => {
    if (v[key] === undefined) return undefined;
    const n = parseSize(v[key]);
    if (n === undefined || !check(n)) throw src.err([...segs, key], `bad value ${JSON.stringify(v[key])} (expected ${want})`);
    return n;
  };
  const bs = blockSize as number;
  const chunkSize = opt("chunkSize", (n) => pow2(n) && n >= bs && n <= 1024 ** 3, `a power of two between the block size (${bs}) and 1GiB`);
  const pclusterSize = opt("pclusterSize", (n) => n % bs === 0 && n >= bs && n <= 1024 ** 2, `a multiple of the block size (${bs}), at most 1MiB`);
  let level: number | undefined;
  if (v.level !== undefined) {
    if (!Number.isInteger(v.level) || (v.level as number) < 0 || (v.level as number) > 109) {
      throw src.err([...segs, "level"], `bad compression level ${JSON.stringify(v.level)} (expected an integer; ranges are listed by "mkfs.erofs --help")`);
    }
    if (compress === "none") throw src.err([...segs, "level"], "a compression level needs a compressor; set compress:");
    level = v.level as number;
  }
  const bool = (key: string): boolean => {
    if (v[key] === undefined) return false;
    if (typeof v[key] !== "boolean") throw src.err([...segs, key], `must be true or false, not ${JSON.stringify(v[key])}`);
    return v[key] as boolean;
  };
  const tar = bool("tar");
  const blobdev = bool("blobdev");
  let fingerprint: string | null = "";
  if (v.fingerprint === false) fingerprint = null;
  else if (typeof v.fingerprint === "string") {
    if (!/^[A-Za-z0-9._-]{1,200}$/.test(v.fingerprint)) {
      throw src.err([...segs, "fingerprint"], `bad xattr name "${v.fingerprint}" (letters, digits, ".", "_", "-"), e.g. trusted.erofs.fp`);
    }
    fingerprint = v.fingerprint;
  } else if (v.fingerprint !== undefined && v.fingerprint !== true) {
    throw src.err([...segs, "fingerprint"], `must be true, false or an xattr name, not ${JSON.stringify(v.fingerprint)}`);
  }
  const extra = v.extra ?? [];
  if (!Array.isArray(extra) || !extra.every((x) => typeof x === "string")) {
    throw src.err([...segs, "extra"], "must be a list of strings (extra mkfs.erofs arguments)");
  }
  if (blobdev && chunkSize === undefined) throw src.err([...segs, "blobdev"], "blobdev: true requires chunkSize (mkfs.erofs stores chunked data on the blob device)");
  if (chunkSize !== undefined && compress !== "none") {
    throw src.err([...segs, "chunkSize"], `chunked files are uncompressed; use compress: none with chunkSize (got compress: ${compress})`);
  }
  return { compress, level, blockSize: bs, chunkSize, pclusterSize, tar, fingerprint, extra: extra as string[], blobdev };
}

function parseEntry(src: Source, segs: Seg[], v: unknown): Entry {
  if (!isObj(v)) throw src.err(segs, "must be a mapping like { path: /x, gen: random, size: 1MiB, seed: 1 }");
  if (typeof v.path !== "string") throw src.err([...segs, "path"], "missing required field path (an absolute path like /data/x.bin)");
  const p = v.path;
  const why = badPath(p);
  if (why) throw src.err([...segs, "path"], `bad path "${p}": ${why}`);
  const kinds = KIND_KEYS.filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) {
    throw src.err(segs, kinds.length ? `give only one of ${kinds.join(", ")}` : `missing required field: one of gen, hardlink, symlink, same`);
  }
  const kind = kinds[0];
  let mode: number | undefined;
  if (v.mode !== undefined) {
    if (typeof v.mode !== "string" || !/^0?[0-7]{3,4}$/.test(v.mode)) {
      throw src.err([...segs, "mode"], `bad mode ${JSON.stringify(v.mode)} (expected a quoted octal string like "0755")`);
    }
    mode = parseInt(v.mode, 8);
  }
  if (kind !== "gen") {
    unknownKeys(src, segs, v, kind === "same" ? ["path", "mode", "same"] : ["path", kind]);
    if (kind === "same") {
      const s = v.same;
      if (!isObj(s) || typeof s.path !== "string" || (s.image !== undefined && typeof s.image !== "string")) {
        throw src.err([...segs, "same"], "must be { image: NAME, path: /file } (image defaults to this one)");
      }
      unknownKeys(src, [...segs, "same"], s, ["image", "path"]);
      // resolved later by resolveSame; placeholder content
      return { kind: "file", path: p, mode, content: { gen: "empty" }, sameAs: { image: (s.image as string) ?? "", path: s.path } };
    }
    const target = v[kind];
    if (typeof target !== "string" || !target) throw src.err([...segs, kind], "must be a non-empty string");
    if (kind === "hardlink") {
      const w = badPath(target);
      if (w) throw src.err([...segs, kind], `bad hardlink target "${target}": ${w}`);
      return { kind: "hardlink", path: p, target };
    }
    return { kind: "symlink", path: p, target };
  }
  const gen = v.gen as Generator;
  if (!GENERATORS.includes(gen)) {
    throw src.err([...segs, "gen"], `unknown generator "${String(v.gen)}" (expected one of: ${GENERATORS.join(", ")})`);
  }
  unknownKeys(src, segs, v, ["gen", ...COMMON_FILE_KEYS, ...GEN_KEYS[gen]]);
  const size = (required: boolean, dflt = 0): number => {
    if (v.size === undefined) {
      if (required) throw src.err([...segs, "size"], `missing required field size for gen: ${gen} (e.g. size: 1MiB)`);
      return dflt;
    }
    const n = parseSize(v.size);
    if (n === undefined) throw src.err([...segs, "size"], `bad size ${JSON.stringify(v.size)} (expected bytes or a number with B, KiB, MiB or GiB, e.g. 8MiB; at most 64GiB)`);
    return n;
  };
  const int = (key: string, required: boolean, min: number, max: number, dflt = 0): number => {
    const x = v[key];
    if (x === undefined) {
      if (required) throw src.err([...segs, key], `missing required field ${key} for gen: ${gen}`);
      return dflt;
    }
    if (!Number.isSafeInteger(x) || (x as number) < min || (x as number) > max) {
      throw src.err([...segs, key], `bad ${key} ${JSON.stringify(x)} (expected an integer from ${min} to ${max})`);
    }
    return x as number;
  };
  const seed = (needed: boolean) => int("seed", needed, 0, 2 ** 32 - 1);
  switch (gen) {
    case "random":
    case "text":
      return { kind: "file", path: p, mode, content: { gen, size: size(true), seed: seed(true) } };
    case "zeros":
      return { kind: "file", path: p, mode, content: { gen, size: size(true) } };
    case "empty":
      return { kind: "file", path: p, mode, content: { gen } };
    case "dir":
      return { kind: "dir", path: p, mode };
    case "sparse": {
      const total = size(true);
      return { kind: "file", path: p, mode, content: { gen, size: total, seed: seed(true), holes: parseHoles(src, segs, v, total) } };
    }
    case "deep-dirs": {
      const s = size(false);
      return { kind: "deep-dirs", path: p, depth: int("depth", true, 1, 500), size: s, seed: seed(s > 0) };
    }
    case "many-files": {
      const content = v.content ?? "random";
      if (content !== "random" && content !== "text") throw src.err([...segs, "content"], `must be random or text, not ${JSON.stringify(content)}`);
      return {
        kind: "many-files", path: p, count: int("count", true, 1, 1_000_000), size: size(true), seed: seed(true),
        content, perDir: int("perDir", false, 1, 1_000_000, 1000),
      };
    }
  }
}

function parseHoles(src: Source, segs: Seg[], v: Record<string, unknown>, total: number): Extent[] {
  if ((v.holes === undefined) === (v.pattern === undefined)) {
    throw src.err(segs, "sparse needs exactly one of holes: [{ at, size }, ...] or pattern: { period, data }");
  }
  const holes: Extent[] = [];
  if (v.pattern !== undefined) {
    const ps = [...segs, "pattern"];
    const pt = v.pattern;
    if (!isObj(pt)) throw src.err(ps, "must be { period: 1MiB, data: 64KiB } (data at the start of each period, the rest a hole)");
    unknownKeys(src, ps, pt, ["period", "data"]);
    const period = parseSize(pt.period);
    const data = parseSize(pt.data);
    if (!period || data === undefined || data >= period) throw src.err(ps, "needs sizes period > data, e.g. { period: 1MiB, data: 64KiB }");
    for (let at = data; at < total; at += period) holes.push({ at, size: Math.min(period - data, total - at) });
    return holes;
  }
  if (!Array.isArray(v.holes)) throw src.err([...segs, "holes"], "must be a list of { at, size }");
  let end = 0;
  v.holes.forEach((h, i) => {
    const hs = [...segs, "holes", i];
    if (!isObj(h)) throw src.err(hs, "must be { at: OFFSET, size: LENGTH }");
    unknownKeys(src, hs, h, ["at", "size"]);
    const at = parseSize(h.at);
    const size = parseSize(h.size);
    if (at === undefined || !size) throw src.err(hs, "needs at: and size: as sizes (size > 0)");
    if (at < end) throw src.err(hs, "holes must be sorted and not overlap");
    if (at + size > total) throw src.err(hs, `hole ends at ${at + size}, past the file size ${total}`);
    holes.push({ at, size });
    end = at + size;
  });
  return holes;
}

/** Why an image path is unacceptable, or undefined. */
function badPath(p: string): string | undefined {
  if (!p.startsWith("/")) return "path not absolute (start it with /)";
  if (p === "/") return "the root itself cannot be an entry";
  const parts = p.slice(1).split("/");
  if (parts.some((x) => x === "")) return "empty component (double or trailing /)";
  if (parts.some((x) => x === "." || x === "..")) return '"." and ".." are not allowed';
  if (parts.some((x) => Buffer.byteLength(x) > 255)) return "a component is longer than 255 bytes";
  if (p.includes("\0")) return "NUL in path";
  return undefined;
}

/** Duplicate paths, files used as directories, hardlinks to missing or non-regular files. */
function checkPaths(src: Source, segs: Seg[], entries: Entry[]): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const j = seen.get(e.path);
    if (j !== undefined) throw src.err([...segs, i, "path"], `duplicate path ${e.path} (also files[${j}]); remove one`);
    seen.set(e.path, i);
  });
  entries.forEach((e, i) => {
    for (let d = path.posix.dirname(e.path); d !== "/"; d = path.posix.dirname(d)) {
      const j = seen.get(d);
      if (j === undefined) continue;
      const parent = entries[j];
      if (parent.kind !== "dir") {
        throw src.err([...segs, i, "path"], `${e.path} is inside ${d}, which files[${j}] makes a ${parent.kind === "file" ? "regular file" : parent.kind}; move one`);
      }
    }
    if (e.kind === "hardlink") {
      const j = seen.get(e.target);
      if (j === undefined) throw src.err([...segs, i, "hardlink"], `hardlink to missing file ${e.target} (no entry has that path in this image)`);
      const t = entries[j];
      if (t.kind !== "file") throw src.err([...segs, i, "hardlink"], `hardlink target ${e.target} is a ${t.kind}, not a regular file`);
    }
  });
}

/** Replace each `same:` placeholder with the referenced file's content; detect missing refs and cycles. */
function resolveSame(
  images: Map<string, ImageSpec>,
  raw: Map<string, { src: Source; segs: Seg[] }>,
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
