// Owns: the fast-check arbitraries explore draws from: image specs in the format of images/*.yaml
// (trees of regular, empty, sparse, hardlinked and symlinked files whose sizes sit at block and page
// boundaries; the same content under different names and in different images, and other content
// under the same names; per-file user/trusted xattrs with random names and values, long xattr
// prefixes and names equal to them; block sizes 512-4096, every compressor of the suite's mkfs
// build, chunked files, a blob device, tar mode; fingerprints present, absent, under a custom name,
// and forged through that name: colliding, empty or oversize), images copied from another image of
// the program with other mkfs choices, fixture images, and operation sequences over several images
// at once. fast-check gives generation from a seed and shrinking (fewer operations, fewer and
// smaller files, simpler options) for free.
import fc from "fast-check";
import { sha256Hex } from "../util/hash.ts";
import type { MountOptionSet, Op, Program } from "./program.ts";

type Compress = "none" | "lz4" | "lz4hc" | "lzma" | "deflate" | "zstd";
type BlockSize = 512 | 1024 | 2048 | 4096;

export interface GenMkfs {
  compress: Compress;
  blockSize: BlockSize;
  /** true: mkfs's default name; a name: that xattr; false: no fingerprints */
  fingerprint: boolean | string;
  /** chunked files of this size (uncompressed only) */
  chunkSize?: number;
  /** chunk data on a second device (needs chunkSize) */
  blobdev?: true;
  tar?: true;
  xattrPrefixes?: string[];
}

export type GenXattr = { name: string; value: string } | { name: string; random: number; seed: number };

/** One entry of a generated tree, exactly as images/*.yaml writes it. */
export type GenFile =
  | { path: string; gen: "random" | "text"; size: number; seed: number; xattrs?: GenXattr[] }
  | { path: string; gen: "zeros"; size: number; xattrs?: GenXattr[] }
  | { path: string; gen: "empty"; xattrs?: GenXattr[] }
  | { path: string; gen: "sparse"; size: number; seed: number; holes: { at: number; size: number }[]; xattrs?: GenXattr[] }
  | { path: string; hardlink: string }
  | { path: string; symlink: string };

/** A generated image, in the spec format of images/*.yaml (written out as YAML by the driver). */
export interface GenImage {
  mkfs: GenMkfs;
  files: GenFile[];
}

/** A generated spec, a fixture of images/*.yaml, or the tree of another image of the program under other mkfs choices. */
export type ImageChoice = { fixture: string } | { spec: GenImage } | { twin: number; mkfs: GenMkfs };

/** What the generator draws: images (by choice) and the operations over them. */
export interface DrawnProgram {
  images: ImageChoice[];
  ops: Op[];
}

/** Fixture images (images/*.yaml) worth exploring with: pairs with shared content across layouts. */
export const FIXTURES = ["share-a", "share-b", "plain-a", "share-lz4hc-a", "share-lz4hc-b", "bs2048", "bs2048-b", "z-lz4", "z-lz4-b", "fp-named"] as const;

/** The custom fingerprint name: its namespace lets a file carry its own (forged) value under it. */
export const FP_NAME = "trusted.erofs.fp";
/** Long xattr prefixes; names are drawn equal to them, inside them and outside them on purpose. */
const PREFIXES = ["user.pcshare.long.prefix.", "trusted.pcshare."];

/** Sizes on purpose at and around block and page boundaries, empty, tiny (inlined) and several MiB. */
const BOUNDARY_SIZES = [0, 1, 100, 511, 512, 513, 1023, 1024, 2047, 2048, 2049, 3000, 4095, 4096, 4097, 8191, 8192, 12288, 65536, 65537, 262151, 2 * 1024 * 1024 + 1];
/** The same names recur across images (other content under the same name). */
const PATHS = ["/a.bin", "/b.bin", "/d/c.bin", "/d/e/f.bin", "/same.bin", "/x"];

const sizeArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BOUNDARY_SIZES) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 300_000 }) });

const xattrNameArb = fc.oneof(
  fc.constantFrom("user.a", "user.comment", "trusted.t", ...PREFIXES, ...PREFIXES.map((p) => p.slice(0, -1)), ...PREFIXES.map((p) => `${p}k`)),
  fc.tuple(fc.constantFrom("user.", "trusted.", ...PREFIXES), fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,39}$/)).map(([p, s]) => p + s),
);
const xattrArb: fc.Arbitrary<GenXattr> = fc.oneof(
  fc.record({ name: xattrNameArb, value: fc.constantFrom("", "v", "a value of some length") }),
  fc.record({ name: xattrNameArb, random: fc.constantFrom(1, 255, 256, 4095, 4096, 65535), seed: fc.integer({ min: 1, max: 9 }) }),
);

/**
 * A file's own value under the custom fingerprint name (when the image uses it): the same text on
 * several files forges colliding fingerprints; empty and past the block size are invalid values;
 * exactly the block size is the largest valid one.
 */
const forgedArb = fc.constantFrom("collide-1", "collide-1", "collide-2", "", "oversize", "blocksize");

/**
 * The text of a forged value. mkfs.erofs stores a file's own value and its digest under the same name
 * in byte order of the values and the kernel takes the first, so every forged value starts with a
 * byte below the digest's "sha256:" ('s'): the file's value is the one the kernel sees.
 */
export function forgedValue(kind: string, blockSize: number): string {
  if (kind === "oversize") return "o".repeat(blockSize + 1);
  if (kind === "blocksize") return "b".repeat(blockSize);
  return kind;
}

type Drawn = { path: string; size: number; gen: "random" | "text" | "zeros" | "sparse"; seed: number; xattrs: GenXattr[]; forged?: string };
const fileArb: fc.Arbitrary<Drawn> = fc.record(
  {
    path: fc.constantFrom(...PATHS),
    gen: fc.constantFrom("random" as const, "random" as const, "text" as const, "zeros" as const, "sparse" as const),
    size: sizeArb,
    // few seeds, so that identical content recurs under different names and in different images
    seed: fc.integer({ min: 1, max: 3 }),
    xattrs: fc.uniqueArray(xattrArb, { maxLength: 3, selector: (x) => x.name }),
    forged: forgedArb,
  },
  { requiredKeys: ["path", "gen", "size", "seed", "xattrs"] },
);

/** The spec entry of a drawn file (the forged value resolved against the image's fingerprint name and block size). */
function toEntry(f: Drawn, mkfs: GenMkfs): GenFile {
  const xattrs = [...f.xattrs];
  if (f.forged !== undefined && mkfs.fingerprint === FP_NAME) {
    xattrs.unshift({ name: FP_NAME, value: forgedValue(f.forged, mkfs.blockSize) });
  }
  const x = xattrs.length ? { xattrs } : {};
  if (f.size === 0) return { path: f.path, gen: "empty", ...x };
  if (f.gen === "zeros") return { path: f.path, gen: "zeros", size: f.size, ...x };
  if (f.gen === "sparse") {
    // one hole from the first block boundary past a quarter of the file, a block or more long
    const at = Math.floor(f.size / 4 / mkfs.blockSize) * mkfs.blockSize;
    const size = Math.min(f.size - at, Math.max(mkfs.blockSize, Math.floor(f.size / 2 / mkfs.blockSize) * mkfs.blockSize));
    return size > 0 ? { path: f.path, gen: "sparse", size: f.size, seed: f.seed, holes: [{ at, size }], ...x } : { path: f.path, gen: "random", size: f.size, seed: f.seed, ...x };
  }
  return { path: f.path, gen: f.gen, size: f.size, seed: f.seed, ...x };
}

/**
 * At most two files of an image carry the same forged value: mkfs.erofs moves a value that more
 * inodes carry to the shared xattr area, where the kernel finds it only after the inline digest, and
 * the image would not be what its spec says (the build refuses it).
 */
function limitForged(entries: GenFile[]): GenFile[] {
  const count = new Map<string, number>();
  return entries.map((e) => {
    const own = "xattrs" in e ? e.xattrs?.find((x): x is { name: string; value: string } => x.name === FP_NAME && "value" in x) : undefined;
    if (!own) return e;
    const n = (count.get(own.value) ?? 0) + 1;
    count.set(own.value, n);
    if (n <= 2) return e;
    const rest = (e as { xattrs: GenXattr[] }).xattrs.filter((x) => x !== own);
    const { xattrs: _, ...bare } = e as { xattrs: GenXattr[] } & GenFile;
    return (rest.length ? { ...bare, xattrs: rest } : bare) as GenFile;
  });
}

export const mkfsArb: fc.Arbitrary<GenMkfs> = fc
  .record({
    compress: fc.constantFrom<Compress>("none", "none", "none", "lz4", "lz4hc", "lzma", "deflate", "zstd"),
    blockSize: fc.constantFrom<BlockSize>(4096, 4096, 512, 1024, 2048),
    fingerprint: fc.constantFrom<boolean | string>(true, true, false, FP_NAME, FP_NAME),
    chunks: fc.constantFrom(0, 0, 0, 1, 4, 16),
    blobdev: fc.boolean(),
    tar: fc.constantFrom(false, false, false, true),
    prefixes: fc.constantFrom(0, 0, 1, 2),
  })
  .map(({ compress, blockSize, fingerprint, chunks, blobdev, tar, prefixes }) => {
    const mkfs: GenMkfs = { compress, blockSize, fingerprint };
    if (chunks && compress === "none") {
      mkfs.chunkSize = blockSize * chunks;
      if (blobdev && !tar) mkfs.blobdev = true;
    }
    if (tar) mkfs.tar = true;
    if (prefixes) mkfs.xattrPrefixes = PREFIXES.slice(0, prefixes);
    return mkfs;
  });

/** Extra entries: a hardlink to the first file and a symlink, drawn or not. */
const extrasArb = fc.record({ hardlink: fc.boolean(), symlink: fc.boolean() });

export const genImageArb: fc.Arbitrary<GenImage> = fc
  .record({ mkfs: mkfsArb, files: fc.uniqueArray(fileArb, { minLength: 1, maxLength: 4, selector: (f) => f.path }), extras: extrasArb })
  .map(({ mkfs, files, extras }) => {
    const entries = limitForged(files.map((f) => toEntry(f, mkfs)));
    const taken = new Set(entries.map((e) => e.path));
    // a hardlink names a regular file without a forged value (a third name would make mkfs share the value)
    const target = entries.find((e) => !("xattrs" in e && e.xattrs?.some((x) => x.name === FP_NAME)));
    if (extras.hardlink && target && !taken.has("/link.bin")) entries.push({ path: "/link.bin", hardlink: target.path });
    if (extras.symlink && !taken.has("/sym")) entries.push({ path: "/sym", symlink: entries[0].path.slice(1) });
    return { mkfs, files: entries };
  });

const imageChoiceArb: fc.Arbitrary<ImageChoice> = fc.oneof(
  { weight: 4, arbitrary: genImageArb.map((spec) => ({ spec })) },
  { weight: 2, arbitrary: fc.record({ twin: fc.integer({ min: 0, max: 3 }), mkfs: mkfsArb }) },
  { weight: 2, arbitrary: fc.constantFrom(...FIXTURES).map((fixture) => ({ fixture })) },
);

const optionArb: fc.Arbitrary<MountOptionSet> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ share: true, domain: "d1" }) },
  { weight: 3, arbitrary: fc.constant({ share: true, domain: "d2" }) },
  { weight: 3, arbitrary: fc.constant({ share: false }) },
  { weight: 1, arbitrary: fc.constant({ share: false, domain: "d1" }) },
  { weight: 1, arbitrary: fc.constant({ share: true }) },
  { weight: 1, arbitrary: fc.constant({ share: true, domain: "" }) },
  { weight: 1, arbitrary: fc.constant({ share: false, raw: "noinode_share" }) },
  { weight: 1, arbitrary: fc.constant({ share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=always" }) },
  { weight: 1, arbitrary: fc.constant({ share: true, domain: "d1", raw: "inode_share,domain_id=d1,dax=never" }) },
);

const slot = fc.integer({ min: 0, max: 3 });
const ref = fc.record({ slot, file: fc.integer({ min: 0, max: 5 }) });
const offsetArb = fc.oneof(fc.constantFrom(0, 511, 512, 2048, 2999, 4095, 4096, 8192), fc.integer({ min: 0, max: 300_000 }));
const lengthArb = fc.constantFrom(1, 100, 512, 2048, 4096, 65536);

const mountArb: fc.Arbitrary<Op> = fc
  .record({
    op: fc.constant("mount" as const),
    image: fc.integer({ min: 0, max: 3 }),
    backing: fc.constantFrom("bdev" as const, "bdev" as const, "bdev" as const, "file" as const),
    opts: optionArb,
    api: fc.constantFrom("mount" as const, "mount" as const, "mount" as const, "fsmount" as const),
  })
  // mount(2) is the default: left out of the program so that programs read as before
  .map(({ api, ...m }) => (api === "fsmount" ? { ...m, api } : m));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: mountArb },
  {
    weight: 1,
    arbitrary: fc
      .record({ op: fc.constant("remount" as const), slot, data: fc.constantFrom("domain_id=d2", "inode_share", "inode_share,domain_id=d1", ""), api: fc.constantFrom("mount" as const, "fsmount" as const) })
      .map(({ api, ...r }) => (api === "fsmount" ? { ...r, api } : r)),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("read" as const),
      at: ref,
      method: fc.constantFrom("read" as const, "pread" as const, "readv" as const, "preadv" as const, "mmap" as const),
      offset: offsetArb,
      length: lengthArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("copy" as const), at: ref, method: fc.constantFrom("sendfile" as const, "splice" as const), offset: offsetArb, length: lengthArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("odirect" as const), at: ref }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ op: fc.constant("frames" as const), a: ref, b: ref, like: fc.constantFrom(true, true, false) })
      .map(({ like, ...f }) => (like ? { ...f, like } : f)),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("fadvise" as const), at: ref }) },
  { weight: 1, arbitrary: fc.constant({ op: "drop_caches" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("hold" as const), at: ref }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("release" as const), hold: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("umount" as const), slot, lazy: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reader" as const), at: ref, ms: fc.integer({ min: 200, max: 3000 }) }) },
);

/** memory.max values: small enough to make a cgroup reclaim what it reads, never below what a reader needs to run. */
export const CG_LIMITS = [2 << 20, 8 << 20, 64 << 20] as const;

const cgStepArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: "cgcreate" as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cglimit" as const), cg: slot, max: fc.constantFrom<number | "max">(...CG_LIMITS, "max") }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("cgread" as const), cg: slot, at: ref }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("hold" as const), at: ref }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cgmove" as const), cg: slot, hold: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cgrmdir" as const), cg: slot }) },
);

/**
 * Cgroup steps, in a third of the programs: a cgroup is created `at` some point of the operations,
 * then each step follows `gap` operations after the one before.
 */
const cgroupArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.record({ at: fc.integer({ min: 0, max: 14 }), steps: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), op: cgStepArb }), { minLength: 1, maxLength: 6 }) }) },
);

/** The operations with the cgroup steps woven in. */
export function weave(rest: readonly Op[], cg: { at: number; steps: { gap: number; op: Op }[] } | null): Op[] {
  const out = [...rest];
  if (!cg) return out;
  let pos = Math.min(cg.at, out.length);
  out.splice(pos++, 0, { op: "cgcreate" });
  for (const s of cg.steps) {
    pos = Math.min(pos + s.gap, out.length);
    out.splice(pos++, 0, s.op);
  }
  return out;
}

/**
 * A superblock's lifetime against a shared inode, in a fifth of the programs: an image mounted twice
 * from its backing file with one option set (two superblocks, every file of one key on both), one
 * file looked up on the first, then on the second (page-frame comparison), one of the two unmounted
 * (either order), then the file on the one left: its page cache dropped (read, fadvise DONTNEED) and
 * read again, so the read goes through the shared inode with nothing cached after an inode of its
 * key was evicted. Random operations draw this order almost never (two mounts sharing a key, lookups
 * in an order, the unmount of one, a cold read through the other). Slots -2 and -1 are the two
 * newest mounts (references are taken modulo the live mounts).
 */
export interface LifetimeSteps {
  /** Where they go among the operations. */
  at: number;
  image: number;
  opts: MountOptionSet;
  file: number;
  /** Unmount the mount whose file was looked up last (else the first). */
  unmountSecond: boolean;
  lazy: boolean;
  method: "read" | "pread" | "mmap";
}

const lifetimeArb: fc.Arbitrary<LifetimeSteps | null> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.integer({ min: 0, max: 14 }),
      image: fc.integer({ min: 0, max: 3 }),
      opts: optionArb,
      file: fc.integer({ min: 0, max: 5 }),
      unmountSecond: fc.boolean(),
      lazy: fc.boolean(),
      method: fc.constantFrom("read" as const, "pread" as const, "mmap" as const),
    }),
  },
);


/** The operations with the lifetime steps (in one piece: the slots name the newest mounts) inserted. */
export function weaveLifetime(ops: readonly Op[], l: LifetimeSteps | null): Op[] {
  const out = [...ops];
  if (!l) return out;
  const first = { slot: -2, file: l.file };
  const left = { slot: -1, file: l.file };
  const mount: Op = { op: "mount", image: l.image, backing: "file", opts: l.opts };
  out.splice(Math.min(l.at, out.length), 0, mount, { ...mount }, { op: "frames", a: first, b: { slot: -1, file: l.file }, like: true }, { op: "umount", slot: l.unmountSecond ? -1 : -2, lazy: l.lazy }, { op: "fadvise", at: left }, { op: "read", at: left, method: l.method, offset: 0, length: 4096 });
  return out;
}

/**
 * Tree shapes and mount paths random operations would seldom reach, drawn after everything else (so
 * that a seed keeps its other draws): a regular file added under a deep directory of one generated
 * image, some of them several MiB; and some mounts made through a loop device instead of what they drew.
 */
export interface ShapeChoices {
  deep: { image: number; depth: number; size: number; seed: number } | null;
  /** Mounts (by index among the program's mounts, modulo their number) made through a loop device. */
  loop: readonly number[];
}

/** Sizes of the deep file: one block, past a page, and several MiB (the largest files a program has). */
export const DEEP_SIZES = [1, 4097, 3 * 1024 * 1024 + 1, 5 * 1024 * 1024] as const;
/** Directory levels of the deep file: from a few to deeper than any fixture (PATH_MAX is far). */
export const DEEP_DEPTH = { min: 3, max: 32 } as const;

const shapeArb: fc.Arbitrary<ShapeChoices> = fc.record({
  deep: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.record({ image: fc.integer({ min: 0, max: 3 }), depth: fc.integer(DEEP_DEPTH), size: fc.constantFrom(...DEEP_SIZES), seed: fc.integer({ min: 1, max: 3 }) }) },
  ),
  loop: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 2 }) }),
});

/** The path of the deep file: `/t1/t2/.../t<depth>/deep.bin`. */
export function deepPath(depth: number): string {
  return `${Array.from({ length: depth }, (_, i) => `/t${i + 1}`).join("")}/deep.bin`;
}

/** The images and operations with the shape choices applied. */
export function applyShape(images: readonly ImageChoice[], ops: readonly Op[], shape: ShapeChoices): DrawnProgram {
  const outImages = [...images];
  const d = shape.deep;
  const target = d && outImages[d.image % outImages.length];
  if (d && target && "spec" in target) {
    const file: GenFile = { path: deepPath(d.depth), gen: "random", size: d.size, seed: d.seed };
    outImages[d.image % outImages.length] = { spec: { ...target.spec, files: [...target.spec.files, file] } };
  }
  const mountAt = ops.flatMap((o, i) => (o.op === "mount" ? [i] : []));
  const outOps = [...ops];
  for (const k of shape.loop) {
    const i = mountAt[k % mountAt.length];
    const o = outOps[i];
    if (o?.op === "mount") outOps[i] = { ...o, backing: "loop" };
  }
  return { images: outImages, ops: outOps };
}

/** A program: 2-4 images, 1-3 mounts first, then up to 14 operations of any kind, and in a third of them cgroup steps. */
export const programArb: fc.Arbitrary<DrawnProgram> = fc
  // Fields shrink in this order: operations first, then the images, then the cgroup steps. The cgroup
  // steps are drawn last so that a seed draws the same other operations and images as before they existed
  // (fast-check draws a record's fields in order, each run from its own jump of the seed's generator).
  .record({
    rest: fc.array(opArb, { maxLength: 14 }),
    mounts: fc.array(mountArb, { minLength: 1, maxLength: 3 }),
    images: fc.array(imageChoiceArb, { minLength: 2, maxLength: 4 }),
    cgroup: cgroupArb,
    // drawn after everything else, as the cgroup steps are, so that a seed keeps its other draws
    lifetime: lifetimeArb,
    shape: shapeArb,
  })
  .map(({ images, mounts, rest, cgroup, lifetime, shape }) => applyShape(images, [...mounts, ...weaveLifetime(weave(rest, cgroup), lifetime)], shape));

/** The image name of a generated spec: content-addressed, so equal specs share a name and a cache entry. */
export function genImageName(spec: GenImage): string {
  return `ex-${sha256Hex(JSON.stringify(spec)).slice(0, 12)}`;
}

/** The generated spec of an image choice: a twin takes the tree of the generated image it names (the
 * index modulo the program's images) under its own mkfs choices; a twin of a fixture is that fixture. */
function resolveChoice(images: readonly ImageChoice[], i: number): { fixture: string } | { spec: GenImage } {
  const c = images[i];
  if (!("twin" in c)) return c;
  const of = images[c.twin % images.length];
  if ("fixture" in of) return of;
  if ("twin" in of) return { spec: { mkfs: c.mkfs, files: [{ path: "/twin-of-twin.bin", gen: "random", size: 4096, seed: 1 }] } };
  return { spec: retarget(of.spec, c.mkfs) };
}

/** A tree under other mkfs choices: a forged fingerprint value keeps its meaning (longer than a block,
 * exactly a block) under the new block size, and is dropped when the new image has no custom
 * fingerprint name to carry it. */
function retarget(spec: GenImage, mkfs: GenMkfs): GenImage {
  const files = spec.files.map((f): GenFile => {
    if (!("xattrs" in f) || !f.xattrs) return f;
    const own = f.xattrs.find((x) => x.name === FP_NAME);
    if (!own) return f;
    const rest = f.xattrs.filter((x) => x !== own);
    if (mkfs.fingerprint !== FP_NAME) {
      const { xattrs: _, ...bare } = f;
      return (rest.length ? { ...bare, xattrs: rest } : bare) as GenFile;
    }
    const v = "value" in own ? own.value : "";
    const fixed: GenXattr = /^o+$/.test(v) ? { name: FP_NAME, value: forgedValue("oversize", mkfs.blockSize) } : /^b+$/.test(v) ? { name: FP_NAME, value: forgedValue("blocksize", mkfs.blockSize) } : own;
    return { ...f, xattrs: [fixed, ...rest] };
  });
  return { mkfs, files };
}

/** The program with image names, and the generated specs it needs (name -> spec). */
export function concrete(p: DrawnProgram): { program: Program; specs: Map<string, GenImage> } {
  const specs = new Map<string, GenImage>();
  const images = p.images.map((_, i) => {
    const c = resolveChoice(p.images, i);
    if ("fixture" in c) return c.fixture;
    const name = genImageName(c.spec);
    specs.set(name, c.spec);
    return name;
  });
  return { program: { images, ops: p.ops }, specs };
}
