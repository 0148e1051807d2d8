// Owns: deterministic file-tree generation from normalized spec entries (harness/images/spec.ts).
// Bytes come from an AES-128-CTR keystream keyed by sha256 of a label ("random:<seed>", ...), so the same
// seed gives the same bytes on any machine and any offset can be produced directly. Large files are
// written in chunks; sparse files get real holes (only data extents are written, then ftruncate). Extended
// attributes are set last on each file and directory (setxattr, through @napi-rs/xattr).
import { createCipheriv } from "node:crypto";
import { chmod, link, mkdir, open, symlink } from "node:fs/promises";
import path from "node:path";
import { setAttribute } from "@napi-rs/xattr";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Content, Entry, Extent, XattrSpec } from "./spec.ts";

const CHUNK = 1 << 20;
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** `length` bytes of the keystream named `label`, starting at byte `offset`, in chunks of <= 1 MiB. */
export function* keystream(label: string, offset: number, length: number): Generator<Uint8Array> {
  const key = sha256(new TextEncoder().encode(`pcshare-gen/v1/${label}`)).subarray(0, 16);
  const iv = Buffer.alloc(16);
  const block = Math.floor(offset / 16);
  iv.writeUInt32BE(Math.floor(block / 2 ** 32), 8);
  iv.writeUInt32BE(block % 2 ** 32, 12);
  const cipher = createCipheriv("aes-128-ctr", key, iv);
  let skip = offset % 16;
  let left = length;
  const zeros = Buffer.alloc(Math.min(CHUNK, length) + 16);
  while (left > 0) {
    const n = Math.min(CHUNK, left);
    const out = cipher.update(zeros.subarray(0, n + skip));
    yield out.subarray(skip, skip + n);
    skip = 0;
    left -= n;
  }
}

const WORDS = (
  "the of and to in is was that for on with as by at from this be are or an it not which have has but " +
  "page cache share erofs inode block file image kernel mount domain digest chunk extent layout compress " +
  "read write map data node tree root path size seed test fast slow disk memory fold merge split alpha beta"
).split(" ");

/** Pseudo-English text (compressible, ~3x): words picked by keystream bytes, lines of ~10 words. */
export function* textStream(label: string, length: number): Generator<Uint8Array> {
  const enc = new TextEncoder();
  let left = length;
  let pos = 0;
  while (left > 0) {
    // Each keystream byte becomes one word plus a separator (>= 3 bytes); ask for about what is left.
    const want = Math.min(CHUNK / 4, Math.ceil(left / 3) + 16);
    const parts: string[] = [];
    for (const rnd of keystream(`text:${label}`, pos, want)) {
      for (let i = 0; i < rnd.length; i++) {
        const b = rnd[i];
        parts.push(WORDS[b % WORDS.length], (b & 0xf0) === 0xf0 ? ".\n" : " ");
      }
    }
    pos += want;
    const bytes = enc.encode(parts.join(""));
    if (bytes.length >= left) {
      yield bytes.subarray(0, left);
      return;
    }
    left -= bytes.length;
    yield bytes;
  }
}

/** The bytes of a content description, as chunks (holes of sparse files as zeros). */
export function* contentChunks(c: Content, label = contentLabel(c)): Generator<Uint8Array> {
  switch (c.gen) {
    case "empty":
      return;
    case "zeros":
      for (let left = c.size; left > 0; left -= CHUNK) yield new Uint8Array(Math.min(CHUNK, left));
      return;
    case "text":
      yield* textStream(label, c.size);
      return;
    case "random":
      yield* keystream(label, 0, c.size);
      return;
    case "sparse":
      for (const x of sparseExtents(c.size, c.holes)) {
        if (x.hole) for (let left = x.size; left > 0; left -= CHUNK) yield new Uint8Array(Math.min(CHUNK, left));
        else yield* keystream(label, x.at, x.size);
      }
  }
}

/** The keystream label of a content: sparse data extents are the random stream of the same seed. */
export function contentLabel(c: Content): string {
  return "seed" in c ? `random:${c.seed}` : c.gen;
}

function sparseExtents(size: number, holes: Extent[]): { at: number; size: number; hole: boolean }[] {
  const out: { at: number; size: number; hole: boolean }[] = [];
  let pos = 0;
  for (const h of holes) {
    if (h.at > pos) out.push({ at: pos, size: h.at - pos, hole: false });
    out.push({ at: h.at, size: h.size, hole: true });
    pos = h.at + h.size;
  }
  if (pos < size) out.push({ at: pos, size: size - pos, hole: false });
  return out;
}

async function writeContent(file: string, c: Content, label = contentLabel(c)): Promise<void> {
  const fh = await open(file, "wx", FILE_MODE);
  try {
    if (c.gen === "sparse") {
      for (const x of sparseExtents(c.size, c.holes)) {
        if (x.hole) continue;
        let pos = x.at;
        for (const chunk of keystream(label, x.at, x.size)) {
          await fh.write(chunk, 0, chunk.length, pos);
          pos += chunk.length;
        }
      }
      await fh.truncate(c.size);
    } else {
      for (const chunk of contentChunks(c, label)) await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
}

/** The tree's file system refused an xattr (too large for it, or a namespace it does not support). */
export class XattrWriteError extends Error {
  override name = "XattrWriteError";
  constructor(readonly path: string, readonly xattr: string, readonly bytes: number, readonly reason: string) {
    super(`cannot set xattr ${xattr} (${bytes} bytes) on ${path}: ${reason}`);
  }
}

async function setXattrs(host: string, rel: string, xattrs: XattrSpec[] | undefined): Promise<void> {
  for (const x of xattrs ?? []) {
    try {
      await setAttribute(host, x.name, Buffer.from(x.hex, "hex"));
    } catch (err) {
      throw new XattrWriteError(rel, x.name, x.hex.length / 2, (err as Error).message);
    }
  }
}

/** Create the entries' tree under `root` (which must exist and be empty). Modes are set explicitly. */
export async function writeTree(root: string, entries: Entry[]): Promise<void> {
  const dirs = new Set<string>();
  const ensureDir = async (rel: string) => {
    if (rel === "/" || dirs.has(rel)) return;
    await ensureDir(path.posix.dirname(rel));
    await mkdir(path.join(root, rel), { recursive: true });
    await chmod(path.join(root, rel), DIR_MODE);
    dirs.add(rel);
  };
  await chmod(root, DIR_MODE);
  const host = (p: string) => path.join(root, p);
  // Regular content first, then hardlinks (their targets must exist).
  const ordered = [...entries].sort((a, b) => Number(a.kind === "hardlink") - Number(b.kind === "hardlink") || (a.path < b.path ? -1 : 1));
  for (const e of ordered) {
    await ensureDir(path.posix.dirname(e.path));
    switch (e.kind) {
      case "dir":
        await ensureDir(e.path);
        if (e.mode !== undefined) await chmod(host(e.path), e.mode);
        await setXattrs(host(e.path), e.path, e.xattrs);
        break;
      case "file":
        await writeContent(host(e.path), e.content);
        if (e.mode !== undefined) await chmod(host(e.path), e.mode);
        await setXattrs(host(e.path), e.path, e.xattrs);
        break;
      case "symlink":
        await symlink(e.target, host(e.path));
        break;
      case "hardlink":
        await link(host(e.target), host(e.path));
        break;
      case "deep-dirs": {
        let d = e.path;
        for (let i = 1; i <= e.depth; i++) d = `${d}/d${String(i).padStart(3, "0")}`;
        await ensureDir(d);
        if (e.size > 0) await writeContent(host(`${d}/leaf.txt`), { gen: "text", size: e.size, seed: e.seed });
        break;
      }
      case "many-files": {
        await ensureDir(e.path);
        const width = String(e.count - 1).length;
        for (let i = 0; i < e.count; i++) {
          const sub = e.count > e.perDir ? `/d${String(Math.floor(i / e.perDir)).padStart(4, "0")}` : "";
          await ensureDir(e.path + sub);
          const content: Content = { gen: e.content, size: e.size, seed: e.seed };
          await writeContent(host(`${e.path}${sub}/f${String(i).padStart(width, "0")}`), content, `${contentLabel(content)}.${i}`);
        }
        break;
      }
    }
  }
}
