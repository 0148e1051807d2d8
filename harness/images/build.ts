// Owns: building images from specs: spec -> file tree (temporary, removed after) -> mkfs.erofs with
// pinned reproducibility options -> image (+ blob device) + manifest.json, cached under
// cachedDir("images", <sha256 of canonical spec + source content + tool version + builder version>).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { cachedDir, cachePath } from "../util/cache.ts";
import { progress } from "../util/progress.ts";
import { erofsTools, type ErofsTools } from "./erofs-utils.ts";
import { loadSpecs, type ImageSpec } from "./spec.ts";
import { writeTree } from "./generate.ts";
import { fileSha256, readManifest, scanTree, writeManifest, type ImageFile, type Manifest } from "./manifest.ts";
import { verifyImage } from "./verify.ts";

/** Bump when a change here or in generate.ts changes what a spec builds into. */
export const BUILDER_VERSION = "pcshare-images/1";
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

/** Build (or take from the cache) every image of the spec files. */
export async function buildImages(specFiles: string[], opts: BuildOptions = {}): Promise<Map<string, BuiltImage>> {
  const specs = loadSpecs(specFiles);
  const names = opts.names ?? [...specs.keys()];
  for (const n of names) if (!specs.has(n)) throw new Error(`no image "${n}" in ${specFiles.join(", ")} (known: ${[...specs.keys()].join(", ")})`);
  const tools = await erofsTools();
  const out = new Map<string, BuiltImage>();
  for (const n of names) out.set(n, await buildImage(specs.get(n)!, tools, opts));
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
  let source: unknown;
  if (spec.source && "dir" in spec.source) source = { dir: hex(canonicalJson(await scanTree(spec.source.dir, false))) };
  else if (spec.source) source = { tar: await fileSha256(spec.source.tar) };
  return canonicalJson({ name: spec.name, mkfs: spec.mkfs, entries: spec.entries, source });
}

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
  if (m.fingerprint !== null) argv.push(m.fingerprint ? `--xattr-inode-digest=${m.fingerprint}` : "--xattr-inode-digest");
  argv.push(...m.extra);
  if (m.tar) argv.push("--tar=f");
  argv.push("IMAGE", "SOURCE");
  return { argv, auto };
}

async function buildImage(spec: ImageSpec, tools: ErofsTools, opts: BuildOptions): Promise<BuiltImage> {
  const canonical = await canonicalSpec(spec);
  const key = hex(`${canonical}\n${tools.version}\n${BUILDER_VERSION}`);
  const entry = `${spec.name}-${key.slice(0, 32)}`;
  const fresh = await stat(cachePath("images", entry)).then(() => false, () => true);
  const step = fresh ? progress(`Building image ${spec.name}`) : undefined;
  let dir: string;
  try {
    dir = await cachedDir("images", entry, (out) => buildInto(out, spec, tools, key, uuidFrom(hex(canonical)), opts));
  } catch (err) {
    step?.fail();
    throw err;
  }
  step?.ok();
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const manifest = await readManifest(manifestPath);
  return {
    name: spec.name,
    imagePath: path.join(dir, manifest.image.file),
    devicePaths: manifest.devices.map((d) => path.join(dir, d.file)),
    manifestPath,
    manifest,
  };
}

async function buildInto(out: string, spec: ImageSpec, tools: ErofsTools, key: string, uuid: string, opts: BuildOptions): Promise<void> {
  const work = await mkdtemp(path.join(opts.tmpDir ?? tmpdir(), "pcshare-tree-"));
  try {
    const tree = path.join(work, "tree");
    await execa("mkdir", ["-m", "0755", tree]);
    if (spec.source && "dir" in spec.source) await execa("cp", ["-a", "--no-preserve=ownership", `${spec.source.dir}/.`, tree]);
    else if (spec.source) await execa("tar", ["-xf", spec.source.tar, "-C", tree, "--no-same-owner"]);
    await writeTree(tree, spec.entries);
    const files = await scanTree(tree, spec.mkfs.fingerprint !== null);
    let input = tree;
    if (spec.mkfs.tar) {
      input = path.join(work, "tree.tar");
      await execa("tar", ["--sort=name", "--format=gnu", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", tree, "-cf", input, "."]);
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
      sha256: await fileSha256(file),
    });
    const manifest: Manifest = {
      format: 1,
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
