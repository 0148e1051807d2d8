// Owns: building images from specs: spec (+ a dir, tar or npm package source; npm tarballs are fetched
// once and cached under npm/) -> file tree (temporary, removed after) -> mkfs.erofs with
// pinned reproducibility options -> image (+ blob device) + manifest.json, cached under
// cachedDir("images", <sha256 of canonical spec + source content + tool version + builder version>).
// Derived images (`derive:`): a registered mutation (erofs/mutate.ts) applied to a built base image's
// bytes, cached by base key + mutation + resolved args, with a manifest recording what changed.
import { copyFile, mkdtemp, readdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { cachedDir, cachePath } from "../util/cache.ts";
import { ownedTempDir } from "../util/temp.ts";
import { progress } from "../util/progress.ts";
import { InputError } from "../util/input-error.ts";
import { sha256File } from "../util/hash.ts";
import { erofsTools, type ErofsTools } from "./erofs-utils.ts";
import { loadSpecs, type ImageSpec, type NpmSource } from "./spec.ts";
import { writeTree, XattrWriteError } from "./generate.ts";
import { MANIFEST_FORMAT, readManifest, scanTree, writeManifest, type ImageFile, type Manifest } from "./manifest.ts";
import { dumpFeatures, fingerprintText, verifyImage } from "./verify.ts";
import { MUTATIONS, type MutationArgs } from "./erofs/mutate.ts";
import { ErofsImage } from "./erofs/reader.ts";
import type { ValueSpec } from "./spec.ts";

/** Bump when a change here or in generate.ts changes what a spec builds into. */
export const BUILDER_VERSION = "pcshare-images/2";
export const IMAGE_FILE = "image.erofs";
export const BLOB_FILE = "blob.erofs";
export const MANIFEST_FILE = "manifest.json";

export interface BuiltImage {
  name: string;
  imagePath: string;
  /** extra device files (blobdev), to pass with --device / as extra disks */
  devicePaths: string[];
  manifestPath: string;
  manifest: Manifest;
}

export interface BuildOptions {
  /** build only these images (default: all in the spec files) */
  names?: string[];
  /** parent of the temporary trees (default: the OS temp dir) */
  tmpDir?: string;
}

/** Build (or take from the cache) every image of the spec files (or of the specs loadSpecs read from them). */
export async function buildImages(from: string[] | Map<string, ImageSpec>, opts: BuildOptions = {}): Promise<Map<string, BuiltImage>> {
  const specs = Array.isArray(from) ? loadSpecs(from) : from;
  const names = opts.names ?? [...specs.keys()];
  const files = () => [...new Set([...specs.values()].map((s) => s.file))].join(", ");
  for (const n of names) if (!specs.has(n)) throw new Error(`no image "${n}" in ${files()} (known: ${[...specs.keys()].join(", ")})`);
  const tools = await erofsTools();
  // Derived images build their base (and any image a value refers to) first, once.
  const memo = new Map<string, Promise<BuiltImage>>();
  const get = (name: string): Promise<BuiltImage> => {
    let p = memo.get(name);
    if (!p) {
      const spec = specs.get(name)!;
      p = spec.derive ? buildDerived(spec, tools, get) : buildImage(spec, tools, opts);
      memo.set(name, p);
    }
    return p;
  };
  const out = new Map<string, BuiltImage>();
  for (const n of names) out.set(n, await get(n));
  return out;
}

/** Deterministic JSON: keys sorted, undefined dropped. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

const hex = (s: string) => bytesToHex(sha256(new TextEncoder().encode(s)));

/** The content-defining part of a spec (no file/line), with the source's content hash. */
async function canonicalSpec(spec: ImageSpec): Promise<string> {
  await checkSource(spec);
  let source: unknown;
  if (spec.source && "dir" in spec.source) source = { dir: hex(canonicalJson(await scanTree(spec.source.dir, false))) };
  else if (spec.source && "npm" in spec.source) source = { npm: spec.source.npm }; // published versions are immutable
  else if (spec.source) source = { tar: await sha256File(spec.source.tar) };
  return canonicalJson({ name: spec.name, mkfs: spec.mkfs, entries: spec.entries, source });
}

/** A spec's source directory or tarball exists and is of the right kind (one line naming the spec's line). */
async function checkSource(spec: ImageSpec): Promise<void> {
  if (!spec.source || "npm" in spec.source) return;
  const [field, p, want] = "dir" in spec.source ? ["source.dir", spec.source.dir, "directory"] : ["source.tar", spec.source.tar, "file"];
  const st = await stat(p).catch(() => undefined);
  const at = `${spec.file}:${spec.line}: images.${spec.name}.${field}: ${p}`;
  if (!st) throw new InputError(`${at}: no such ${want}; fix the path (relative paths are from the spec file's directory)`);
  if (want === "directory" ? !st.isDirectory() : !st.isFile()) throw new InputError(`${at}: not a ${want}; give a ${want === "directory" ? "directory" : "tar archive"}`);
}

/** Errors of writing the temporary tree that say nothing about which image or where: named, with what to do. */
function treeError(err: unknown, spec: ImageSpec, where: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const at = `${spec.file}:${spec.line}: images.${spec.name}`;
  if (err instanceof XattrWriteError) {
    return new InputError(
      `${at}: files: ${err.message}, in the temporary tree under ${where}; its file system holds less than EROFS does (ext4 keeps about one block of xattrs per inode): set TMPDIR to a tmpfs directory such as /dev/shm`,
    );
  }
  if (code === "ENOSPC" || code === "EDQUOT") return new Error(`${at}: no space left on the device while writing its file tree under ${where}; free space there or point TMPDIR at a larger file system`);
  if (code === "EROFS" || code === "EACCES") return new Error(`${at}: cannot write its file tree under ${where} (${code === "EROFS" ? "read-only file system" : "permission denied"}); point TMPDIR at a writable directory`);
  return err;
}

/** The tarball of an npm package version, fetched with `npm pack` once and cached under npm/<name>-<version>/. */
export async function npmTarball(src: NpmSource, where: string): Promise<string> {
  const id = `${src.package}@${src.version}`;
  const dir = await cachedDir("npm", `${src.package.replace("/", "+")}-${src.version}`, async (out) => {
    const r = await execa("npm", ["pack", id, "--ignore-scripts", "--silent", "--pack-destination", out], { cwd: out, reject: false, all: true });
    const tgz = r.exitCode === 0 ? (await readdir(out)).find((f) => f.endsWith(".tgz")) : undefined;
    if (!tgz) {
      const tail = (r.all ?? "").trim().split("\n").slice(-3).join("\n  ");
      throw new Error(
        `${where}: cannot fetch npm package ${id} (npm pack exit ${r.exitCode ?? r.signal}; offline or no such version?):\n  ${tail}\n` +
          `  It is fetched once from the npm registry and then cached under ${cachePath("npm", "")}.`,
      );
    }
    await rename(path.join(out, tgz), path.join(out, NPM_TARBALL));
  });
  return path.join(dir, NPM_TARBALL);
}

const NPM_TARBALL = "package.tgz";

/** A UUID from a hash, with version 4 / variant 1 bits so tools accept it. */
function uuidFrom(hash: string): string {
  const b = hash.slice(0, 32).split("");
  b[12] = "4";
  b[16] = "89ab"[parseInt(b[16], 16) & 3];
  const s = b.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** mkfs.erofs arguments (IMAGE, SOURCE, BLOB are placeholders) and the options added automatically. */
export function mkfsArgs(spec: ImageSpec, uuid: string): { argv: string[]; auto: Manifest["mkfs"]["autoOptions"] } {
  const m = spec.mkfs;
  const auto: Manifest["mkfs"]["autoOptions"] = [];
  const argv = ["--quiet", `-b${m.blockSize}`, "-T0", "--all-time", `-U${uuid}`, "--all-root"];
  if (m.compress !== "none") argv.push(`-z${m.compress}${m.level !== undefined ? `,level=${m.level}` : ""}`);
  if (m.compress === "zstd") {
    argv.push("-E48bit");
    auto.push({ option: "-E48bit", reason: "mkfs.erofs 1.9.4 compresses nothing with zstd without it" });
  }
  if (m.pclusterSize !== undefined) argv.push(`-C${m.pclusterSize}`);
  if (m.chunkSize !== undefined) argv.push(`--chunksize=${m.chunkSize}`);
  if (m.blobdev) argv.push("--blobdev=BLOB");
  // Before the digest option: the prefixes take indexes 0.. in this order, the fingerprint's comes last.
  for (const p of m.xattrPrefixes ?? []) argv.push(`--xattr-prefix=${p}`);
  if (m.fingerprint !== null) argv.push(m.fingerprint ? `--xattr-inode-digest=${m.fingerprint}` : "--xattr-inode-digest");
  argv.push(...m.extra);
  if (m.tar) argv.push("--tar=f");
  argv.push("IMAGE", "SOURCE");
  return { argv, auto };
}

/** Build (or take from the cache) one image from a spec made in code rather than read from a spec file. */
export async function buildSpecImage(spec: ImageSpec, opts: BuildOptions = {}): Promise<BuiltImage> {
  if (spec.derive) throw new Error(`${spec.name}: derived images are built through buildImages`);
  return buildImage(spec, await erofsTools(), opts);
}

async function buildImage(spec: ImageSpec, tools: ErofsTools, opts: BuildOptions): Promise<BuiltImage> {
  const canonical = await canonicalSpec(spec);
  const key = hex(`${canonical}\n${tools.version}\n${BUILDER_VERSION}`);
  const entry = `${spec.name}-${key.slice(0, 32)}`;
  const fresh = await stat(cachePath("images", entry)).then(() => false, () => true);
  const step = fresh ? progress(`Building image ${spec.name}`) : undefined;
  let dir: string;
  try {
    dir = await cachedDir("images", entry, (out) => buildInto(out, spec, tools, key, uuidFrom(hex(canonical)), opts), { check: imageEntryProblem });
  } catch (err) {
    step?.fail();
    throw err;
  }
  step?.ok();
  return builtFromEntry(spec.name, dir);
}

/**
 * Parent of an image's temporary tree: $TMPDIR when set; for an image with xattrs, otherwise, /dev/shm when
 * it is a tmpfs (disk file systems like ext4 keep about one block of xattrs per inode, EROFS up to 256 KiB).
 */
async function treeParent(spec: ImageSpec): Promise<string | undefined> {
  const TMPFS_MAGIC = 0x01021994;
  if (process.env.TMPDIR || !spec.entries.some((e) => (e.kind === "file" || e.kind === "dir") && e.xattrs?.length)) return undefined;
  const fs = await statfs("/dev/shm").catch(() => undefined);
  return fs?.type === TMPFS_MAGIC ? "/dev/shm" : undefined;
}

async function buildInto(out: string, spec: ImageSpec, tools: ErofsTools, key: string, uuid: string, opts: BuildOptions): Promise<void> {
  // Named after its owner: the next run removes it if this one is killed mid-build.
  const work = opts.tmpDir ? await mkdtemp(path.join(opts.tmpDir, "pcshare-tree-")) : await ownedTempDir("pcshare-tree-", await treeParent(spec));
  try {
    const tree = path.join(work, "tree");
    await execa("mkdir", ["-m", "0755", tree]);
    if (spec.source && "dir" in spec.source) await execa("cp", ["-a", "--no-preserve=ownership", `${spec.source.dir}/.`, tree]);
    else if (spec.source && "npm" in spec.source) {
      // npm tarballs hold everything under package/; the image's root is the package's root.
      const tgz = await npmTarball(spec.source.npm, `${spec.file}:${spec.line}: images.${spec.name}`);
      await execa("tar", ["-xzf", tgz, "-C", tree, "--no-same-owner", "--strip-components=1"]);
    } else if (spec.source) {
      const r = await execa("tar", ["-xf", spec.source.tar, "-C", tree, "--no-same-owner"], { reject: false, all: true });
      if (r.exitCode !== 0) {
        const why = (r.all ?? "").trim().split("\n")[0];
        throw new InputError(`${spec.file}:${spec.line}: images.${spec.name}.source.tar: ${spec.source.tar}: not a tar archive tar can read (${why}); give a .tar, .tar.gz, .tar.xz or .tar.zst`);
      }
    }
    await writeTree(tree, spec.entries).catch((err) => {
      throw treeError(err, spec, path.dirname(work));
    });
    const fp = spec.mkfs.fingerprint;
    const files = await scanTree(tree, fp === null ? false : fp || true);
    let input = tree;
    if (spec.mkfs.tar) {
      input = path.join(work, "tree.tar");
      // xattrs travel as PAX records (SCHILY.xattr.NAME), which mkfs.erofs --tar reads; GNU format has none.
      const xattrs = files.some((f) => f.xattrs) ? ["--format=pax", "--xattrs", "--xattrs-include=*"] : ["--format=gnu"];
      await execa("tar", ["--sort=name", ...xattrs, "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", tree, "-cf", input, "."]);
    }
    const { argv, auto } = mkfsArgs(spec, uuid);
    const image = path.join(out, IMAGE_FILE);
    const blob = path.join(out, BLOB_FILE);
    const real = argv.map((a) => (a === "IMAGE" ? image : a === "SOURCE" ? input : a.replace(/^--blobdev=BLOB$/, `--blobdev=${blob}`)));
    const r = await execa(tools.mkfs[0], [...tools.mkfs.slice(1), ...real], { reject: false, all: true, env: { LC_ALL: "C" } });
    if (r.exitCode !== 0) {
      const tail = (r.all ?? "").trim().split("\n").slice(-5).join("\n  ");
      throw new Error(`${spec.file}:${spec.line}: images.${spec.name}: mkfs.erofs failed (exit ${r.exitCode ?? r.signal}):\n  ${tail}\n  argv: mkfs.erofs ${argv.join(" ")}`);
    }
    const describe = async (file: string): Promise<ImageFile> => ({
      file: path.basename(file),
      size: (await stat(file)).size,
      sha256: await sha256File(file),
    });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name: spec.name,
      spec: spec.file,
      key,
      builder: BUILDER_VERSION,
      image: await describe(image),
      devices: spec.mkfs.blobdev ? [await describe(blob)] : [],
      mkfs: { version: tools.version, toolSource: tools.source, argv, autoOptions: auto },
      uuid,
      blockSize: spec.mkfs.blockSize,
      compress: spec.mkfs.compress,
      fingerprintXattr: spec.mkfs.fingerprint,
      features: [],
      verified: false,
      files,
    };
    await verifyImage(manifest, image, tools);
    await writeManifest(path.join(out, MANIFEST_FILE), manifest);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---- derived images (derive: { image, mutation, args }) ----

/** Bump when a change in how derived images are made changes their bytes or manifest. */
export const DERIVE_VERSION = "pcshare-derive/1";

const utf8 = new TextEncoder();

/** The bytes of a ValueSpec; `fingerprintOf` reads the raw xattr value from a built image. */
async function resolveValue(spec: ImageSpec, v: ValueSpec, baseName: string, get: (n: string) => Promise<BuiltImage>): Promise<Uint8Array> {
  if ("hex" in v) return Uint8Array.from(Buffer.from(v.hex, "hex"));
  if ("text" in v) return utf8.encode(v.text);
  const from = await get(v.image ?? baseName);
  const img = ErofsImage.open(new Uint8Array(await readFile(from.imagePath)));
  let raw: Uint8Array | undefined;
  try {
    raw = img.fingerprint(img.resolve(v.fingerprintOf));
  } catch (err) {
    throw new Error(`${spec.file}:${spec.line}: images.${spec.name}.derive.args.value: ${from.name}:${v.fingerprintOf}: ${(err as Error).message}`);
  }
  if (!raw) throw new Error(`${spec.file}:${spec.line}: images.${spec.name}.derive.args.value: ${from.name}:${v.fingerprintOf} has no fingerprint xattr`);
  const pre = utf8.encode(v.prefix ?? "");
  const suf = utf8.encode(v.suffix ?? "");
  const out = new Uint8Array(pre.length + raw.length + suf.length);
  out.set(pre);
  out.set(raw, pre.length);
  out.set(suf, pre.length + raw.length);
  return out;
}

type TreeView = Map<string, { type: string; size: number; fp: string | null }>;

/** Type, size and fingerprint (manifest text) of every path the reader finds; per-file xattr errors as "unreadable: ...". */
function readTree(bytes: Uint8Array): { tree: TreeView; error?: string } {
  const tree: TreeView = new Map();
  let img: ErofsImage;
  try {
    img = ErofsImage.open(bytes);
  } catch (err) {
    return { tree, error: (err as Error).message };
  }
  for (const e of img.walk()) {
    let fp: string | null = null;
    if (e.inode.type === "file") {
      try {
        const raw = img.fingerprint(e.nid);
        fp = raw ? fingerprintText(raw) : null;
      } catch (err) {
        fp = `unreadable: ${(err as Error).message}`;
      }
    }
    tree.set(e.path, { type: e.inode.type, size: e.inode.size, fp });
  }
  return { tree };
}

async function buildDerived(spec: ImageSpec, tools: ErofsTools, get: (n: string) => Promise<BuiltImage>): Promise<BuiltImage> {
  const d = spec.derive!;
  const mutation = MUTATIONS[d.mutation];
  const base = await get(d.image);
  const { value, ...rest } = d.args;
  const args: MutationArgs = { ...rest };
  if (value) args.value = await resolveValue(spec, value, d.image, get);
  const shownArgs: Record<string, unknown> = { ...rest, ...(args.value ? { value: bytesToHex(args.value) } : {}) };
  const key = hex(canonicalJson({ base: base.manifest.key, baseSha256: base.manifest.image.sha256, mutation: d.mutation, args: shownArgs, builder: BUILDER_VERSION, derive: DERIVE_VERSION }));
  const entry = `${spec.name}-${key.slice(0, 32)}`;
  const fresh = await stat(cachePath("images", entry)).then(() => false, () => true);
  const step = fresh ? progress(`Deriving image ${spec.name} (${d.mutation} of ${d.image})`) : undefined;
  let dir: string;
  try {
    dir = await cachedDir("images", entry, async (out) => {
      const before = new Uint8Array(await readFile(base.imagePath));
      let after: Uint8Array;
      try {
        after = mutation.apply(before, args);
      } catch (err) {
        throw new Error(`${spec.file}:${spec.line}: images.${spec.name}.derive: ${d.mutation} on ${d.image} failed: ${(err as Error).message}`);
      }
      const image = path.join(out, IMAGE_FILE);
      await writeFile(image, after);
      for (const dev of base.manifest.devices) await copyFile(path.join(path.dirname(base.imagePath), dev.file), path.join(out, dev.file));
      const old = readTree(before);
      const now = readTree(after);
      const changed: NonNullable<Manifest["mutation"]>["changed"] = [];
      const problems: string[] = [];
      const files = base.manifest.files.map((f) => {
        const s = now.tree.get(f.path);
        if (now.error) return { ...f };
        if (!s) {
          problems.push(`${f.path}: missing after the mutation`);
          return { ...f };
        }
        if (s.type !== f.type || (f.type !== "dir" && s.size !== f.size)) problems.push(`${f.path}: ${s.type} of ${s.size} bytes after the mutation, ${f.type} of ${f.size} before`);
        const was = old.tree.get(f.path)?.fp ?? null;
        if (s.fp !== was) changed.push({ path: f.path, before: was, after: s.fp });
        return { ...f, fingerprint: s.fp?.startsWith("unreadable: ") ? null : s.fp };
      });
      if (problems.length) {
        throw new Error(`${spec.file}:${spec.line}: images.${spec.name}: ${d.mutation} changed more than fingerprints:\n  ${problems.slice(0, 10).join("\n  ")}`);
      }
      const features = await dumpFeatures(tools, image).catch(() => base.manifest.features);
      const manifest: Manifest = {
        ...base.manifest,
        name: spec.name,
        spec: spec.file,
        key,
        builder: BUILDER_VERSION,
        image: { file: IMAGE_FILE, size: after.length, sha256: await sha256File(image) },
        features,
        verified: !now.error,
        files,
        mutation: {
          name: d.mutation,
          args: shownArgs,
          expect: mutation.expect,
          base: { name: base.name, key: base.manifest.key, sha256: base.manifest.image.sha256 },
          changed,
          ...(now.error ? { readerError: now.error } : {}),
        },
      };
      await writeManifest(path.join(out, MANIFEST_FILE), manifest);
    }, { check: imageEntryProblem });
  } catch (err) {
    step?.fail();
    throw err;
  }
  step?.ok();
  return builtFromEntry(spec.name, dir);
}

/** An image entry against its manifest: the image and devices have the recorded size and sha256. */
async function imageEntryProblem(dir: string): Promise<string | undefined> {
  let manifest: Manifest;
  try {
    manifest = await readManifest(path.join(dir, MANIFEST_FILE));
  } catch (err) {
    return `${MANIFEST_FILE}: ${(err as Error).message}`;
  }
  for (const f of [manifest.image, ...manifest.devices]) {
    const st = await stat(path.join(dir, f.file)).catch(() => undefined);
    if (!st) return `${f.file} is missing`;
    if (st.size !== f.size) return `${f.file} is ${st.size} bytes, its manifest says ${f.size}`;
  }
  return undefined;
}

/** A cache entry's image, devices and manifest, as callers see a built image. */
async function builtFromEntry(name: string, dir: string): Promise<BuiltImage> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const manifest = await readManifest(manifestPath);
  return {
    name,
    imagePath: path.join(dir, manifest.image.file),
    devicePaths: manifest.devices.map((d) => path.join(dir, d.file)),
    manifestPath,
    manifest,
  };
}
