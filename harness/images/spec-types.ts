// Owns: the normalized form of an image spec (what harness/images/spec.ts produces from images/*.yaml
// and the builder consumes) and the value sets its fields take.
import type { MutationArgs } from "./erofs/mutate.ts";
import type { KeyLayout } from "./erofs/collide.ts";

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

/** One extended attribute of a file or directory: full name ("user.x") and value bytes as lowercase hex. */
export interface XattrSpec {
  name: string;
  hex: string;
}

export type Entry =
  | { kind: "file"; path: string; content: Content; mode?: number; xattrs?: XattrSpec[]; sameAs?: { image: string; path: string } }
  | { kind: "dir"; path: string; mode?: number; xattrs?: XattrSpec[] }
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
  /** long xattr name prefixes (mkfs.erofs --xattr-prefix=, in this order); absent = none */
  xattrPrefixes?: string[];
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
