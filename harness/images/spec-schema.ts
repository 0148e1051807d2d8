// Owns: the schema of one image in images/*.yaml (zod): what each key may hold, the problem text for
// each kind of mistake, and the normalized objects it produces (sizes in bytes, modes as numbers,
// entries as Entry). It knows nothing of YAML or files: spec.ts maps each issue's path to a line.
// Extending it: add a key to a strict() shape (unknown-key messages list the shape's keys; FILE_KEYS
// for every file and directory), a kind of entry to ENTRY_KINDS, a generator to GEN_SCHEMAS; rules
// across fields go in a .superRefine/.transform that reports with problem(ctx, ..., path). A generated
// spec (a plain object) is checked with specFileSchema.safeParse, no YAML needed.
import { z } from "zod";
import { byKey, problem, says, show, strict, type Ctx } from "./spec-blocks.ts";
import { KEY_LAYOUTS } from "./erofs/collide.ts";
import { MUTATIONS } from "./erofs/mutate.ts";
export { byKey, strict } from "./spec-blocks.ts";
import { BLOCK_SIZES, COMPRESSORS, GENERATORS } from "./spec-types.ts";
import { checkImageXattrs, xattrListSchema, xattrPrefixesSchema } from "./spec-xattrs.ts";
import type { Content, DeriveArgs, Entry, Extent, MkfsSpec, NpmSource, ValueSpec, XattrSpec } from "./spec-types.ts";

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

/** Why an image path is unacceptable, or undefined. */
export function badPath(p: string): string | undefined {
  if (!p.startsWith("/")) return "path not absolute (start it with /)";
  if (p === "/") return "the root itself cannot be an entry";
  const parts = p.slice(1).split("/");
  if (parts.some((x) => x === "")) return "empty component (double or trailing /)";
  if (parts.some((x) => x === "." || x === "..")) return '"." and ".." are not allowed';
  if (parts.some((x) => Buffer.byteLength(x) > 255)) return "a component is longer than 255 bytes";
  if (p.includes("\0")) return "NUL in path";
  return undefined;
}

/** A size in bytes ("8MiB" or a number), optionally one `ok` accepts; `bad(value as written)` otherwise. */
const size = (bad: (v: unknown) => string, missing?: string, ok: (n: number) => boolean = () => true) =>
  z.unknown().transform((v, ctx) => {
    const n = parseSize(v);
    return n === undefined || !ok(n) ? problem(ctx, v, v === undefined && missing ? missing : bad(v)) : n;
  });
/** An integer in [min, max]. */
const intIn = (name: string, min: number, max: number, missing?: string) => {
  const err = says((v) => `bad ${name} ${show(v)} (expected an integer from ${min} to ${max})`, missing);
  return z.int(err).min(min, err).max(max, err);
};
/** A string matching `re`. */
const matching = (re: RegExp, bad: (v: unknown) => string) => z.string(says(bad)).regex(re, says(bad));
/** An absolute image path; `what` introduces the value in the problem text. */
const imagePath = (what: (p: unknown) => string, missing?: string) =>
  z.string(says((v) => missing ?? `${what(v)}: must be a string`, missing)).superRefine((p, ctx) => {
    const why = badPath(p);
    if (why) problem(ctx, p, `${what(p)}: ${why}`);
  });

// ---- mkfs ------------------------------------------------------------------------------------

const bool = z.boolean(says((v) => `must be true or false, not ${show(v)}`)).default(false);
const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
const badLevel = says((v) => `bad compression level ${show(v)} (expected an integer; ranges are listed by "mkfs.erofs --help")`);
const badBlockSize = (v: unknown) => `bad block size ${show(v)} (expected one of: ${BLOCK_SIZES.join(", ")}; x86_64 guests mount at most 4096)`;

export const mkfsSchema = strict(
  {
    compress: z.enum(COMPRESSORS, says((v) => `unknown compressor "${String(v)}" (expected one of: ${COMPRESSORS.join(", ")})`)).default("none"),
    level: z.int(badLevel).min(0, badLevel).max(109, badLevel).optional(),
    blockSize: size(badBlockSize, undefined, (n) => (BLOCK_SIZES as readonly number[]).includes(n)).optional(),
    /** checked against blockSize below */
    chunkSize: z.unknown().optional(),
    pclusterSize: z.unknown().optional(),
    tar: bool,
    fingerprint: z
      .union([z.boolean(), matching(/^[A-Za-z0-9._-]{1,200}$/, (v) => `bad xattr name "${String(v)}" (letters, digits, ".", "_", "-"), e.g. trusted.erofs.fp`)], says((v) => `must be true, false or an xattr name, not ${show(v)}`))
      .optional(),
    extra: z
      .custom<string[]>((v) => Array.isArray(v) && v.every((x) => typeof x === "string"), "must be a list of strings (extra mkfs.erofs arguments)")
      .default([]),
    blobdev: bool,
    xattrPrefixes: xattrPrefixesSchema,
  },
  { notObject: "must be a mapping, e.g. { compress: lz4hc, blockSize: 4096 }" },
)
  .prefault({})
  .transform((v, ctx): MkfsSpec => {
    const bs = v.blockSize ?? 4096;
    const sized = (key: "chunkSize" | "pclusterSize", ok: (n: number) => boolean, want: string) => {
      if (v[key] === undefined) return undefined;
      const n = parseSize(v[key]);
      return n !== undefined && ok(n) ? n : problem(ctx, v[key], `bad value ${show(v[key])} (expected ${want})`, [key]);
    };
    const chunkSize = sized("chunkSize", (n) => pow2(n) && n >= bs && n <= 1024 ** 3, `a power of two between the block size (${bs}) and 1GiB`);
    const pclusterSize = sized("pclusterSize", (n) => n % bs === 0 && n >= bs && n <= 1024 ** 2, `a multiple of the block size (${bs}), at most 1MiB`);
    if (v.level !== undefined && v.compress === "none") problem(ctx, v.level, "a compression level needs a compressor; set compress:", ["level"]);
    if (v.blobdev && v.chunkSize === undefined) problem(ctx, true, "blobdev: true requires chunkSize (mkfs.erofs stores chunked data on the blob device)", ["blobdev"]);
    if (v.chunkSize !== undefined && v.compress !== "none") {
      problem(ctx, v.chunkSize, `chunked files are uncompressed; use compress: none with chunkSize (got compress: ${v.compress})`, ["chunkSize"]);
    }
    const fingerprint = v.fingerprint === false ? null : typeof v.fingerprint === "string" ? v.fingerprint : "";
    return { compress: v.compress, level: v.level, blockSize: bs, chunkSize, pclusterSize, tar: v.tar, fingerprint, extra: v.extra, blobdev: v.blobdev, xattrPrefixes: v.xattrPrefixes?.length ? v.xattrPrefixes : undefined };
  });

// ---- files: entries --------------------------------------------------------------------------

const entryPath = imagePath((p) => `bad path "${String(p)}"`, "missing required field path (an absolute path like /data/x.bin)");
const mode = matching(/^0?[0-7]{3,4}$/, (v) => `bad mode ${show(v)} (expected a quoted octal string like "0755")`)
  .transform((s) => parseInt(s, 8))
  .optional();
const seedFor = (gen: string) => intIn("seed", 0, 2 ** 32 - 1, `missing required field seed for gen: ${gen}`);
const sizeFor = (gen: string) =>
  size((v) => `bad size ${show(v)} (expected bytes or a number with B, KiB, MiB or GiB, e.g. 8MiB; at most 64GiB)`, `missing required field size for gen: ${gen} (e.g. size: 1MiB)`);
/** Keys every generated entry takes. */
const FILE_KEYS = { path: entryPath, mode };
/** Keys of an entry that is one file or directory (per-file attributes go here). */
const ONE_KEYS = { ...FILE_KEYS, xattrs: xattrListSchema };
/** An entry made by a generator: gen, the common keys, then the generator's own keys. */
const genEntry = <G extends string, S extends z.core.$ZodLooseShape>(gen: G, shape: S) => strict({ gen: z.literal(gen), ...FILE_KEYS, ...shape });
/** The same for a generator of one file or directory, which may carry xattrs. */
const oneEntry = <G extends string, S extends z.core.$ZodLooseShape>(gen: G, shape: S) => strict({ gen: z.literal(gen), ...ONE_KEYS, ...shape });

const period = size(() => "needs sizes period > data, e.g. { period: 1MiB, data: 64KiB }");
const sparsePattern = strict({ period, data: period }, { notObject: "must be { period: 1MiB, data: 64KiB } (data at the start of each period, the rest a hole)" });
const holeSize = size(() => "needs at: and size: as sizes (size > 0)");
const hole = strict({ at: holeSize, size: holeSize }, { notObject: "must be { at: OFFSET, size: LENGTH }" });

/** Holes of a sparse file: listed (sorted, inside the file) or a repeating pattern. */
function sparseHoles(v: { size: number; holes?: Extent[]; pattern?: { period: number; data: number } }, ctx: Ctx): Extent[] {
  if ((v.holes === undefined) === (v.pattern === undefined)) return problem(ctx, v, "sparse needs exactly one of holes: [{ at, size }, ...] or pattern: { period, data }");
  const holes: Extent[] = [];
  if (v.pattern) {
    const { period: p, data } = v.pattern;
    if (!p || data >= p) return problem(ctx, v.pattern, "needs sizes period > data, e.g. { period: 1MiB, data: 64KiB }", ["pattern"]);
    for (let at = data; at < v.size; at += p) holes.push({ at, size: Math.min(p - data, v.size - at) });
    return holes;
  }
  let end = 0;
  for (const [i, h] of v.holes!.entries()) {
    if (!h.size) return problem(ctx, h, "needs at: and size: as sizes (size > 0)", ["holes", i]);
    if (h.at < end) return problem(ctx, h, "holes must be sorted and not overlap", ["holes", i]);
    if (h.at + h.size > v.size) return problem(ctx, h, `hole ends at ${h.at + h.size}, past the file size ${v.size}`, ["holes", i]);
    holes.push(h);
    end = h.at + h.size;
  }
  return holes;
}

type OneKeys = { path: string; mode?: number; xattrs?: XattrSpec[] };
const fileEntry = (v: OneKeys, content: Content): Entry => ({ kind: "file", path: v.path, mode: v.mode, xattrs: v.xattrs, content });

export const GEN_SCHEMAS = {
  random: oneEntry("random", { size: sizeFor("random"), seed: seedFor("random") }).transform((v) => fileEntry(v, { gen: v.gen, size: v.size, seed: v.seed })),
  text: oneEntry("text", { size: sizeFor("text"), seed: seedFor("text") }).transform((v) => fileEntry(v, { gen: v.gen, size: v.size, seed: v.seed })),
  zeros: oneEntry("zeros", { size: sizeFor("zeros") }).transform((v) => fileEntry(v, { gen: v.gen, size: v.size })),
  empty: oneEntry("empty", {}).transform((v) => fileEntry(v, { gen: v.gen })),
  sparse: oneEntry("sparse", {
    size: sizeFor("sparse"),
    seed: seedFor("sparse"),
    holes: z.array(hole, says(() => "must be a list of { at, size }")).optional(),
    pattern: sparsePattern.optional(),
  }).transform((v, ctx) => fileEntry(v, { gen: v.gen, size: v.size, seed: v.seed, holes: sparseHoles(v, ctx) })),
  dir: oneEntry("dir", {}).transform((v): Entry => ({ kind: "dir", path: v.path, mode: v.mode, xattrs: v.xattrs })),
  "deep-dirs": genEntry("deep-dirs", {
    depth: intIn("depth", 1, 500, "missing required field depth for gen: deep-dirs"),
    size: sizeFor("deep-dirs").optional(),
    seed: seedFor("deep-dirs").optional(),
  }).transform((v, ctx): Entry => {
    const s = v.size ?? 0;
    if (s > 0 && v.seed === undefined) problem(ctx, undefined, "missing required field seed for gen: deep-dirs", ["seed"]);
    return { kind: "deep-dirs", path: v.path, depth: v.depth, size: s, seed: v.seed ?? 0 };
  }),
  "many-files": genEntry("many-files", {
    count: intIn("count", 1, 1_000_000, "missing required field count for gen: many-files"),
    size: sizeFor("many-files"),
    seed: seedFor("many-files"),
    content: z.enum(["random", "text"], says((v) => `must be random or text, not ${show(v)}`)).default("random"),
    perDir: intIn("perDir", 1, 1_000_000).default(1000),
  }).transform((v): Entry => ({ kind: "many-files", path: v.path, count: v.count, size: v.size, seed: v.seed, content: v.content, perDir: v.perDir })),
} satisfies Record<(typeof GENERATORS)[number], z.ZodType<Entry>>;

const generated = z.discriminatedUnion("gen", Object.values(GEN_SCHEMAS) as never, {
  error: (iss) => `unknown generator "${String((iss.input as Record<string, unknown>)?.gen)}" (expected one of: ${GENERATORS.join(", ")})`,
});
const linkTarget = z.string(says(() => "must be a non-empty string")).min(1, says(() => "must be a non-empty string"));

/** The kinds of entry, told apart by which of these keys an entry has. */
export const ENTRY_KINDS = {
  gen: generated,
  hardlink: strict({ path: entryPath, hardlink: linkTarget }).transform((v, ctx): Entry => {
    const why = badPath(v.hardlink);
    if (why) problem(ctx, v.hardlink, `bad hardlink target "${v.hardlink}": ${why}`, ["hardlink"]);
    return { kind: "hardlink", path: v.path, target: v.hardlink };
  }),
  symlink: strict({ path: entryPath, symlink: linkTarget }).transform((v): Entry => ({ kind: "symlink", path: v.path, target: v.symlink })),
  /** Resolved by spec.ts once all images are parsed; the content is a placeholder until then. */
  same: strict({
    ...ONE_KEYS,
    same: strict(
      { image: z.string(says(() => "must be a string")).optional(), path: z.string(says(() => "must be a string")) },
      { notObject: "must be { image: NAME, path: /file } (image defaults to this one)" },
    ),
  }).transform((v): Entry => ({ kind: "file", path: v.path, mode: v.mode, xattrs: v.xattrs, content: { gen: "empty" }, sameAs: { image: v.same.image ?? "", path: v.same.path } })),
};

export const entrySchema = byKey(ENTRY_KINDS, {
  notObject: "must be a mapping like { path: /x, gen: random, size: 1MiB, seed: 1 }",
  none: `missing required field: one of ${Object.keys(ENTRY_KINDS).join(", ")}`,
  many: (present) => `give only one of ${present.join(", ")}`,
}) as z.ZodType<Entry>;

/** Duplicate paths, files used as directories, hardlinks to missing or non-regular files. */
function checkPaths(entries: Entry[], ctx: Ctx): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const j = seen.get(e.path);
    if (j !== undefined) problem(ctx, e.path, `duplicate path ${e.path} (also files[${j}]); remove one`, [i, "path"]);
    else seen.set(e.path, i);
  });
  entries.forEach((e, i) => {
    for (let d = e.path.slice(0, e.path.lastIndexOf("/")); d; d = d.slice(0, d.lastIndexOf("/"))) {
      const j = seen.get(d);
      const parent = j === undefined ? undefined : entries[j];
      if (parent && parent.kind !== "dir") {
        problem(ctx, e.path, `${e.path} is inside ${d}, which files[${j}] makes a ${parent.kind === "file" ? "regular file" : parent.kind}; move one`, [i, "path"]);
      }
    }
    if (e.kind !== "hardlink") return;
    const j = seen.get(e.target);
    if (j === undefined) problem(ctx, e.target, `hardlink to missing file ${e.target} (no entry has that path in this image)`, [i, "hardlink"]);
    else if (entries[j].kind !== "file") problem(ctx, e.target, `hardlink target ${e.target} is a ${entries[j].kind}, not a regular file`, [i, "hardlink"]);
  });
}

export const filesSchema = z.array(entrySchema, says(() => "must be a list of file entries")).superRefine(checkPaths);

// ---- source, derive, image ---------------------------------------------------------------------

const SOURCE_SHAPE = "must be { dir: ./path }, { tar: ./file.tar } (relative to the spec file) or { npm: { package: NAME, version: X.Y.Z } }";
const npmSchema = strict({
  package: matching(/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,213}$/, (v) => `bad npm package name ${show(v)} (e.g. lodash or @scope/name)`),
  version: matching(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, (v) => `bad version ${show(v)} (an exact published version like "4.17.21", quoted; no ranges or tags)`),
}) satisfies z.ZodType<NpmSource>;
const relPath = z.string(says(() => SOURCE_SHAPE));
/** Paths stay as written (relative to the spec file); spec.ts resolves them. */
export const sourceSchema = byKey(
  { dir: strict({ dir: relPath }), tar: strict({ tar: relPath }), npm: strict({ npm: npmSchema }) },
  { notObject: SOURCE_SHAPE },
) as z.ZodType<{ dir: string } | { tar: string } | { npm: NpmSource }>;

const VALUE_SHAPE = 'must be { hex: "..." }, { text: "..." } or { fingerprintOf: /path, image: NAME, prefix: "...", suffix: "..." }';
const str = z.string(says(() => "must be a string")).optional();
export const valueSchema = byKey(
  {
    hex: strict({ hex: matching(/^([0-9a-fA-F]{2})+$/, () => "must be an even number of hex digits") }).transform((v): ValueSpec => ({ hex: v.hex.toLowerCase() })),
    text: strict({ text: matching(/^[^]+$/, () => 'must be a non-empty string (YAML double quotes allow "\\0" for NUL)') }),
    fingerprintOf: strict({ fingerprintOf: imagePath((p) => `bad path ${show(p)}`), image: str, prefix: str, suffix: str }),
  },
  { notObject: VALUE_SHAPE },
) as z.ZodType<ValueSpec>;

const argPath = imagePath((p) => `bad path ${show(p)}`);
export const deriveArgsSchema = strict({
  path: argPath.optional(),
  fromPath: argPath.optional(),
  value: valueSchema.optional(),
  id: intIn("id", 0, 0xff).optional(),
  valueSize: intIn("valueSize", 0, 0xffff).optional(),
  domainId: matching(/^[^,\0]+$/, (v) => `bad domainId ${show(v)} (a non-empty string without "," or NUL, as mount -o domain_id= takes it)`).optional(),
  keyLayout: z.enum(KEY_LAYOUTS as [string, ...string[]], says((v) => `unknown key layout ${show(v)} (expected one of: ${KEY_LAYOUTS.join(", ")})`)).optional(),
  seed: intIn("seed", 0, 2 ** 32 - 1).optional(),
  method: z.enum(["inversion", "birthday"], says((v) => `unknown method ${show(v)} (expected inversion or birthday)`)).optional(),
}, { notObject: "must be a mapping of mutation arguments, e.g. { path: /x, fromPath: /y }" }) as z.ZodType<DeriveArgs>;

export const deriveSchema = strict(
  {
    image: matching(/^[^]+$/, () => "missing required field image (the name of the base image)"),
    mutation: z.enum(Object.keys(MUTATIONS) as [string, ...string[]], says((v) => `unknown mutation ${show(v)} (expected one of: ${Object.keys(MUTATIONS).join(", ")})`)),
    args: deriveArgsSchema.prefault({}),
  },
  { notObject: "must be { image: BASE, mutation: NAME, args: { ... } }" },
).superRefine((v, ctx) => {
  const needs = MUTATIONS[v.mutation].needs;
  const missing = needs.find((k) => (v.args as Record<string, unknown>)[k] === undefined);
  if (missing) problem(ctx, v.args, `mutation ${v.mutation} needs ${missing} (it needs: ${needs.join(", ")})`, ["args"]);
});

/** An image: mkfs options and a tree (files: on top of an optional source:), or derive: and nothing else. */
export const imageSchema = byKey(
  {
    derive: strict({ derive: deriveSchema }, { unknownKey: (k) => `a derived image takes its tree and mkfs options from derive.image; remove "${k}"` }),
  },
  { notObject: "must be a mapping with mkfs:, files: and optionally source: (or derive:)" },
  strict({ mkfs: mkfsSchema, files: filesSchema.optional(), source: sourceSchema.optional() }).superRefine((v, ctx) => {
    if (!v.files?.length && !v.source) problem(ctx, v.files, "missing required field (an image needs files: or source:)", ["files"], v.files !== undefined);
    checkImageXattrs(v.mkfs, v.files ?? [], ctx, (i) => ["files", i]);
  }),
);

export const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A whole spec file: `images:` mapping names to images. */
export const specFileSchema = strict(
  {
    images: z.record(
      z.string().regex(IMAGE_NAME, 'bad image name (use letters, digits, ".", "_", "-"; at most 64 characters)'),
      imageSchema,
      says(() => "must be a mapping of image name to image spec"),
    ),
  },
  { notObject: 'the spec must be a mapping with an "images:" key', unknownKey: () => "unknown key (expected: images)" },
);
