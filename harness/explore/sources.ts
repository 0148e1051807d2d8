// Owns: what the model and the executor know about a program's images: the model's view of an image
// (regular files with size, sha256, fingerprint and layout, from its manifest) and the source bytes of
// any file range (from the image specs' content descriptions), to check what a read returned.
import type { Manifest } from "../images/manifest.ts";
import type { Content } from "../images/spec-types.ts";
import { loadSpecs } from "../images/spec.ts";
import { contentChunks } from "../images/generate.ts";
import type { ModelImage } from "./model.ts";

/** The model's view of a built image. */
export function modelImage(m: Manifest): ModelImage {
  const files = m.files
    .filter((f) => f.type === "file")
    .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 ?? "", xxh64: f.xxh64 ?? "", fingerprint: f.fingerprint, layout: f.layout, ...(f.linkOf && { linkOf: f.linkOf }) }));
  return { name: m.name, blockSize: m.blockSize, files, fingerprinted: m.features.includes("ishare_xattrs") };
}

/** image name -> path -> content description, for every regular file the spec files describe. */
export type ContentIndex = Map<string, Map<string, Content>>;

export function contentIndex(specFiles: string[], names: readonly string[]): ContentIndex {
  const specs = loadSpecs(specFiles);
  const out: ContentIndex = new Map();
  for (const name of names) {
    let spec = specs.get(name);
    // A derived image has its base's tree (only fingerprint bytes differ).
    while (spec?.derive) spec = specs.get(spec.derive.image);
    const files = new Map<string, Content>();
    for (const e of spec?.entries ?? []) if (e.kind === "file") files.set(e.path, e.content);
    for (const e of spec?.entries ?? []) {
      const target = e.kind === "hardlink" ? files.get(e.target) : undefined;
      if (target) files.set(e.path, target);
    }
    out.set(name, files);
  }
  return out;
}

/** Bytes [offset, offset+length) of a content (shorter at the end of the file, empty past it). */
export function sourceSlice(c: Content, offset: number, length: number): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  const end = offset + length;
  for (const chunk of contentChunks(c)) {
    const next = pos + chunk.length;
    if (next > offset && pos < end) parts.push(Buffer.from(chunk.subarray(Math.max(0, offset - pos), Math.min(chunk.length, end - pos))));
    pos = next;
    if (pos >= end) break;
  }
  return Buffer.concat(parts);
}
