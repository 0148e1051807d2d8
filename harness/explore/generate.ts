// Owns: the fast-check arbitraries explore draws from: image specs (small trees whose sizes sit at block
// and page boundaries, the same content under different names and in different images, block sizes
// 512-4096, compression, fingerprints present, absent or under a custom xattr name), fixture images of
// images/*.yaml, and operation sequences over several images at once. fast-check gives generation from
// a seed and shrinking (fewer operations, fewer and smaller files, simpler options) for free.
import fc from "fast-check";
import { sha256Hex } from "../util/hash.ts";
import type { MountOptionSet, Op, Program } from "./program.ts";

/** A generated image, in the spec format of images/*.yaml (written out as YAML by the driver). */
export interface GenImage {
  mkfs: { compress: "none" | "lz4" | "lz4hc"; blockSize: 512 | 1024 | 2048 | 4096; fingerprint: boolean | string };
  /** zeros take no seed */
  files: { path: string; gen: "random" | "text" | "zeros"; size: number; seed?: number }[];
}

export type ImageChoice = { fixture: string } | { spec: GenImage };

/** What the generator draws: images (by choice) and the operations over them. */
export interface DrawnProgram {
  images: ImageChoice[];
  ops: Op[];
}

/** Fixture images (images/*.yaml) worth exploring with: pairs with shared content across layouts. */
export const FIXTURES = ["share-a", "share-b", "plain-a", "share-lz4hc-a", "share-lz4hc-b", "bs2048", "bs2048-b", "z-lz4", "z-lz4-b", "fp-named"] as const;

/** Sizes on purpose at and around block and page boundaries (and a tiny one that is inlined). */
const BOUNDARY_SIZES = [1, 100, 511, 512, 513, 1023, 1024, 2047, 2048, 2049, 3000, 4095, 4096, 4097, 8191, 8192, 12288, 65536, 65537, 262151];
const PATHS = ["/a.bin", "/b.bin", "/d/c.bin", "/d/e/f.bin", "/same.bin", "/x"];

const sizeArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BOUNDARY_SIZES) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 300_000 }) });

/** Few seeds, so that identical content recurs under different names and in different images. */
const fileArb = fc
  .record({
    path: fc.constantFrom(...PATHS),
    gen: fc.constantFrom("random" as const, "text" as const, "zeros" as const),
    size: sizeArb,
    seed: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ seed, ...f }) => (f.gen === "zeros" ? f : { ...f, seed }));

export const genImageArb: fc.Arbitrary<GenImage> = fc.record({
  mkfs: fc.record({
    compress: fc.constantFrom("none" as const, "none" as const, "lz4" as const, "lz4hc" as const),
    blockSize: fc.constantFrom(4096 as const, 512 as const, 1024 as const, 2048 as const),
    fingerprint: fc.constantFrom<boolean | string>(true, true, false, "trusted.erofs.fp"),
  }),
  files: fc.uniqueArray(fileArb, { minLength: 1, maxLength: 4, selector: (f) => f.path }),
});

const imageChoiceArb: fc.Arbitrary<ImageChoice> = fc.oneof(
  { weight: 2, arbitrary: genImageArb.map((spec) => ({ spec })) },
  { weight: 1, arbitrary: fc.constantFrom(...FIXTURES).map((fixture) => ({ fixture })) },
);

const optionArb: fc.Arbitrary<MountOptionSet> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ share: true, domain: "d1" }) },
  { weight: 2, arbitrary: fc.constant({ share: true, domain: "d2" }) },
  { weight: 3, arbitrary: fc.constant({ share: false }) },
  { weight: 1, arbitrary: fc.constant({ share: false, domain: "d1" }) },
  { weight: 1, arbitrary: fc.constant({ share: true }) },
  { weight: 1, arbitrary: fc.constant({ share: true, domain: "" }) },
  { weight: 1, arbitrary: fc.constant({ share: false, raw: "noinode_share" }) },
);

const slot = fc.integer({ min: 0, max: 3 });
const ref = fc.record({ slot, file: fc.integer({ min: 0, max: 5 }) });

const mountArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constant("mount" as const),
  image: fc.integer({ min: 0, max: 3 }),
  backing: fc.constantFrom("bdev" as const, "bdev" as const, "bdev" as const, "file" as const),
  opts: optionArb,
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: mountArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("remount" as const), slot, data: fc.constantFrom("domain_id=d2", "inode_share", "inode_share,domain_id=d1", "") }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("read" as const),
      at: ref,
      method: fc.constantFrom("read" as const, "pread" as const, "readv" as const, "preadv" as const),
      offset: fc.oneof(fc.constantFrom(0, 511, 512, 2048, 2999, 4095, 4096, 8192), fc.integer({ min: 0, max: 300_000 })),
      length: fc.constantFrom(1, 100, 512, 2048, 4096, 65536),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("frames" as const), a: ref, b: ref }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("fadvise" as const), at: ref }) },
  { weight: 1, arbitrary: fc.constant({ op: "drop_caches" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("hold" as const), at: ref }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("release" as const), hold: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("umount" as const), slot, lazy: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reader" as const), at: ref, ms: fc.integer({ min: 200, max: 3000 }) }) },
);

/** A program: 2-4 images, 1-3 mounts first, then up to 14 operations of any kind. */
export const programArb: fc.Arbitrary<DrawnProgram> = fc
  // Fields shrink in this order: operations first, then the images.
  .record({
    rest: fc.array(opArb, { maxLength: 14 }),
    mounts: fc.array(mountArb, { minLength: 1, maxLength: 3 }),
    images: fc.array(imageChoiceArb, { minLength: 2, maxLength: 4 }),
  })
  .map(({ images, mounts, rest }) => ({ images, ops: [...mounts, ...rest] }));

/** The image name of a generated spec: content-addressed, so equal specs share a name and a cache entry. */
export function genImageName(spec: GenImage): string {
  return `ex-${sha256Hex(JSON.stringify(spec)).slice(0, 12)}`;
}

/** The program with image names, and the generated specs it needs (name -> spec). */
export function concrete(p: DrawnProgram): { program: Program; specs: Map<string, GenImage> } {
  const specs = new Map<string, GenImage>();
  const images = p.images.map((c) => {
    if ("fixture" in c) return c.fixture;
    const name = genImageName(c.spec);
    specs.set(name, c.spec);
    return name;
  });
  return { program: { images, ops: p.ops }, specs };
}
