// A measure source as an EROFS image: the source's tree through mkfs.erofs tar mode with a
// fingerprint per regular file (--xattr-inode-digest), 4 KiB blocks, no compression: the images the
// page-cache sharing feature is for. Built and cached by content through the fixture image builder.
import { buildSpecImage, type BuiltImage } from "../../images/build.ts";
import type { ImageSpec, MkfsSpec } from "../../images/spec-types.ts";
import type { ParsedSource } from "./parse.ts";
import { resolveSource } from "./resolve.ts";

export const MEASURE_MKFS: MkfsSpec = { compress: "none", blockSize: 4096, tar: true, fingerprint: "", extra: [], blobdev: false };

/** The image of one source (fetched, assembled and built on first use; cached afterwards). */
export async function sourceImage(src: ParsedSource, index: number): Promise<BuiltImage> {
  const spec: ImageSpec = {
    name: `measure-${src.label.replace(/[^A-Za-z0-9.+_-]/g, "_").slice(0, 60)}`,
    file: `SOURCE ${index + 1} (${src.text})`,
    line: 0,
    mkfs: MEASURE_MKFS,
    entries: [],
    source: await resolveSource(src),
  };
  return buildSpecImage(spec);
}
