// The layout matrix: every block size and on-disk layout the image spec format supports, each as a
// pair of images holding the same files at different paths (images/layouts.yaml and its "-b" twins in
// images/integrity.yaml), so that a layout-dependent check can run over all of them as variants of
// one case. The ids are the variant ids results and check names carry.

export interface LayoutPair {
  /** Variant id (also the image name of side A). */
  id: string;
  a: string;
  b: string;
  /** What it covers (for the catalog README). */
  what: string;
}

export const LAYOUTS: readonly LayoutPair[] = [
  { id: "bs512", a: "bs512", b: "bs512-b", what: "512-byte blocks, uncompressed" },
  { id: "bs512-lz4", a: "bs512-lz4", b: "bs512-lz4-b", what: "512-byte blocks, lz4" },
  { id: "bs1024", a: "bs1024", b: "bs1024-b", what: "1024-byte blocks, lz4" },
  { id: "bs1024-plain", a: "bs1024-plain", b: "bs1024-plain-b", what: "1024-byte blocks, uncompressed" },
  { id: "bs2048", a: "bs2048", b: "bs2048-b", what: "2048-byte blocks, uncompressed (inline tail)" },
  { id: "bs2048-lz4", a: "bs2048-lz4", b: "bs2048-lz4-b", what: "2048-byte blocks, lz4" },
  { id: "bs4096", a: "bs4096", b: "bs4096-b", what: "4096-byte blocks, uncompressed" },
  { id: "inline", a: "inline", b: "inline-b", what: "inline tails of 1 B to 12300 B files" },
  { id: "sparse", a: "sparse", b: "sparse-b", what: "holes and hole patterns, uncompressed" },
  { id: "sparse-lz4", a: "sparse-lz4", b: "sparse-lz4-b", what: "holes, lz4" },
  { id: "chunked", a: "chunked", b: "chunked-b", what: "chunked files (--chunksize 8192), dense and sparse" },
  { id: "multi-device", a: "chunked-blob", b: "chunked-blob-b", what: "chunks on a blob device (--blobdev, mounted with device=)" },
  { id: "lz4", a: "z-lz4", b: "z-lz4-b", what: "4096-byte blocks, lz4" },
  { id: "lz4hc", a: "z-lz4hc", b: "z-lz4hc-b", what: "lz4hc level 12" },
  { id: "lzma", a: "z-lzma", b: "z-lzma-b", what: "lzma" },
  { id: "deflate", a: "z-deflate", b: "z-deflate-b", what: "deflate" },
  { id: "libdeflate", a: "z-libdeflate", b: "z-libdeflate-b", what: "libdeflate" },
  { id: "zstd", a: "z-zstd", b: "z-zstd-b", what: "zstd (-E48bit)" },
  { id: "big-pcluster", a: "z-lz4-big-pcluster", b: "z-lz4-big-pcluster-b", what: "lz4hc with 64 KiB physical clusters" },
  { id: "tar", a: "tar-input", b: "tar-input-b", what: "built from a tarball (--tar=f), lz4, with a hardlink" },
];

/** The layout ids, for a case's `variants`. */
export const LAYOUT_IDS: string[] = LAYOUTS.map((l) => l.id);

/** Every image of the matrix, for a case's `images`. */
export const LAYOUT_IMAGES: string[] = LAYOUTS.flatMap((l) => [l.a, l.b]);

/** The pair of a variant id (throws on an unknown id: the case and the matrix disagree). */
export function layout(id: string): LayoutPair {
  const l = LAYOUTS.find((x) => x.id === id);
  if (!l) throw new Error(`unknown layout variant "${id}"`);
  return l;
}
