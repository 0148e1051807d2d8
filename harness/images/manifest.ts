// Owns: the image manifest (manifest.json beside each built image): its type, the scan of the source
// tree that fills the per-file part (type, size, mode, sha256 and XXH64, xattrs, expected fingerprint), and reading/writing.
// nid and layout are filled later from the image itself (harness/images/verify.ts).
import { lstat, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { getAttribute, listAttributes } from "@napi-rs/xattr";
import { fileDigests } from "../util/hash.ts";
import { fingerprintText } from "./verify.ts";

/** 2: files carry xxh64 beside sha256. */
export const MANIFEST_FORMAT = 2;

export interface FileRecord {
  /** absolute path inside the image, e.g. "/data/big.bin" */
  path: string;
  type: "file" | "dir" | "symlink";
  /** bytes of content (regular files), of the target string (symlinks), 0 for directories */
  size: number;
  mode: number;
  /** hex sha256 of the content (regular files only): what the fingerprint is made of */
  sha256: string | null;
  /** hex XXH64 of the content (regular files only): what the guest agent reports for the bytes it read */
  xxh64: string | null;
  /** symlink target */
  target?: string;
  /** for the second and later names of a hardlinked inode: the first name (sorted order) */
  linkOf?: string;
  /**
   * The fingerprint the kernel sees for this file: "sha256:<hex>" of the content, or null (empty,
   * non-regular, no fingerprints); a file whose own xattrs carry the fingerprint's name shows that value
   * instead (mkfs.erofs puts it before its digest, the kernel takes the first): as fingerprintText gives it.
   */
  fingerprint: string | null;
  /** extended attributes of files and directories (not the digest mkfs adds), sorted by name; absent = none */
  xattrs?: XattrRecord[];
  /** filled from the image by the reader */
  nid: number | null;
  layout: string | null;
}

export interface XattrRecord {
  name: string;
  /** value bytes, lowercase hex ("" = empty value) */
  hex: string;
}

export interface ImageFile {
  /** file name inside the image's cache directory */
  file: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: number;
  name: string;
  /** spec file the image came from (as given) */
  spec: string;
  /** sha256 of the canonical spec + tool version + builder version: the cache key */
  key: string;
  builder: string;
  image: ImageFile;
  /** extra devices (blobdev), in mkfs --blobdev order */
  devices: ImageFile[];
  mkfs: {
    version: string;
    toolSource: string;
    /** arguments after the mkfs.erofs program; IMAGE / SOURCE / BLOB stand for the build paths */
    argv: string[];
    /** options added automatically, with why */
    autoOptions: { option: string; reason: string }[];
  };
  uuid: string;
  blockSize: number;
  compress: string;
  /** fingerprint xattr name ("" = mkfs.erofs's default), null when the image has none */
  fingerprintXattr: string | null;
  /** superblock feature names, from the image */
  features: string[];
  /** whether nid/layout/fingerprints were checked against the image with the EROFS reader */
  verified: boolean;
  files: FileRecord[];
  /** Derived images only (images/*.yaml `derive:`): the mutation applied to the base image's bytes. */
  mutation?: {
    name: string;
    /** arguments as applied (a value as hex) */
    args: Record<string, unknown>;
    /** what the mutation registry says a correct kernel does */
    expect: { mount: string; sharing?: string; kernelMessage?: string };
    base: { name: string; key: string; sha256: string };
    /** files whose fingerprint the reader sees differently after the mutation */
    changed: { path: string; before: string | null; after: string | null }[];
    /** the reader could not parse the mutated image (e.g. a broken superblock field) */
    readerError?: string;
  };
}

/** "sha256:<hex>" as the image's fingerprint xattr should read, or null when it has none. */
export function expectedFingerprint(type: FileRecord["type"], size: number, digest: string | null, fingerprints: boolean): string | null {
  return fingerprints && type === "file" && size > 0 && digest ? `sha256:${digest}` : null;
}

/** Extended attributes of a file or directory (symlinks: none are read), sorted by name in byte order. */
export async function readXattrs(file: string): Promise<XattrRecord[]> {
  const names = (await listAttributes(file)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: XattrRecord[] = [];
  for (const name of names) out.push({ name, hex: ((await getAttribute(file, name)) ?? Buffer.alloc(0)).toString("hex") });
  return out;
}

/**
 * Walk a source tree (sorted, byte order) into file records; the root itself is recorded as "/".
 * `fingerprints`: false for none, true for mkfs's default name, or the fingerprint xattr's name.
 */
export async function scanTree(root: string, fingerprints: boolean | string): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  const inodes = new Map<string, FileRecord>();
  const visit = async (rel: string) => {
    const host = path.join(root, rel);
    const st = await lstat(host);
    const mode = st.mode & 0o7777;
    const xattrs = st.isSymbolicLink() ? [] : await readXattrs(host);
    const base = { path: rel, mode, nid: null, layout: null, ...(xattrs.length ? { xattrs } : {}) };
    if (st.isDirectory()) {
      out.push({ ...base, type: "dir", size: 0, sha256: null, xxh64: null, fingerprint: null });
      const names = (await readdir(host)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const n of names) await visit(rel === "/" ? `/${n}` : `${rel}/${n}`);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(host);
      out.push({ ...base, type: "symlink", size: Buffer.byteLength(target), sha256: null, xxh64: null, target, fingerprint: null });
    } else if (st.isFile()) {
      const first = st.nlink > 1 ? inodes.get(`${st.dev}:${st.ino}`) : undefined;
      const digests = first ? { sha256: first.sha256!, xxh64: first.xxh64! } : await fileDigests(host);
      const own = typeof fingerprints === "string" ? xattrs.find((x) => x.name === fingerprints) : undefined;
      const rec: FileRecord = {
        ...base, type: "file", size: st.size, ...digests,
        fingerprint: own ? fingerprintText(Buffer.from(own.hex, "hex")) : expectedFingerprint("file", st.size, digests.sha256, fingerprints !== false),
      };
      if (first) rec.linkOf = first.path;
      else if (st.nlink > 1) inodes.set(`${st.dev}:${st.ino}`, rec);
      out.push(rec);
    } else {
      throw new Error(`${host}: unsupported file type (only files, directories and symlinks)`);
    }
  };
  await visit("/");
  return out;
}

export async function writeManifest(file: string, m: Manifest): Promise<void> {
  await writeFile(file, `${JSON.stringify(m, null, 1)}\n`);
}

export async function readManifest(file: string): Promise<Manifest> {
  const m = JSON.parse(await readFile(file, "utf8")) as Manifest;
  if (m.format !== MANIFEST_FORMAT) throw new Error(`${file}: manifest format ${m.format}, expected ${MANIFEST_FORMAT}; rebuild the image`);
  return m;
}
