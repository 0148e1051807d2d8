// From a parsed SOURCE to what the image builder takes: a directory, an npm package, or a tarball of
// the source's file tree. Everything fetched or assembled (Debian packages, mmdebstrap root
// filesystems, flattened container images, unpacked tarballs) is cached under sources/ by its inputs:
// a Debian package by name and version, a root filesystem by suite + packages + mirror + mmdebstrap
// version, a tarball or image archive by its sha256. Trees are normalized once (device nodes, FIFOs
// and sockets dropped: an image of file data has no use for them) and kept as a sorted tar.
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { cachedDir } from "../../util/cache.ts";
import { DebianArchive, DEBIAN_MIRROR } from "../../util/debian-archive.ts";
import { InputError } from "../../util/input-error.ts";
import { ownedTempDir } from "../../util/temp.ts";
import { progress } from "../../util/progress.ts";
import { sha256File } from "../../util/hash.ts";
import type { ImageSpec } from "../../images/spec-types.ts";
import type { ParsedSource } from "./parse.ts";
import { flattenLayers, imageLayers, tarMembers } from "./layers.ts";

export type BuilderSource = NonNullable<ImageSpec["source"]>;

/** Bump when normalization changes what a cached tree holds. */
const SOURCES_VERSION = "pcshare-sources/1";
const TREE_TAR = "tree.tar";
/** Suites searched, in order, for a deb:<pkg>=<version>. */
export const DEB_SUITES = ["sid", "trixie", "bookworm", "experimental"];

const hex = (s: string) => bytesToHex(sha256(new TextEncoder().encode(s)));
const safe = (s: string) => s.replace(/[^A-Za-z0-9.+_-]/g, "_").slice(0, 60);

/** The builder's source for `src`, fetching and caching what it needs. */
export async function resolveSource(src: ParsedSource): Promise<BuilderSource> {
  const s = src.spec;
  if (s.kind === "npm") return { npm: { package: s.package, version: s.version } };
  if (s.kind === "deb") return { tar: await debTree(s.package, s.version, src.text) };
  if (s.kind === "rootfs") return { tar: await rootfsTree(s.suite, s.packages, src.text) };
  const p = path.resolve(s.path);
  const st = await stat(p).catch(() => undefined);
  if (!st) throw new InputError(`SOURCE ${JSON.stringify(src.text)}: no such file or directory`);
  if (st.isDirectory()) {
    const oci = s.as === "oci" || (await stat(path.join(p, "oci-layout")).catch(() => undefined)) !== undefined;
    if (!oci) return { dir: p };
    const key = `oci-dir-${hex(await readFile(path.join(p, "index.json"), "utf8").catch(() => ""))}`;
    return { tar: await normalizedTree(key, src.text, async (tree) => flattenLayers(await imageLayers(p, src.text), tree)) };
  }
  if (!st.isFile()) throw new InputError(`SOURCE ${JSON.stringify(src.text)}: neither a directory nor a file`);
  const members = new Set((await tarMembers(p)).filter((n) => !n.includes("/")));
  const image = s.as !== undefined || members.has("manifest.json") || members.has("oci-layout");
  const key = `${image ? "image" : "tar"}-${await sha256File(p)}`;
  return {
    tar: await normalizedTree(key, src.text, async (tree, work) => {
      if (!image) return untar(p, tree);
      const unpacked = path.join(work, "archive");
      await mkdir(unpacked);
      await untar(p, unpacked);
      await flattenLayers(await imageLayers(unpacked, src.text), tree);
    }),
  };
}

async function untar(tarball: string, dest: string): Promise<void> {
  const r = await execa("tar", ["-xf", tarball, "-C", dest, "--no-same-owner"], { reject: false, all: true });
  if (r.exitCode !== 0) throw new InputError(`${tarball}: tar could not unpack it (${(r.all ?? "").trim().split("\n")[0]}); give a .tar, .tar.gz, .tar.xz or .tar.zst`);
}

/**
 * The cached tree tar of entry `key`: `fill(tree, work)` writes the tree (work is scratch space), then
 * special files are dropped and the tree is stored as a tar sorted by name.
 */
async function normalizedTree(key: string, what: string, fill: (tree: string, work: string) => Promise<void>): Promise<string> {
  const dir = await cachedDir("sources", safe(`${key.slice(0, 48)}-${hex(key + SOURCES_VERSION).slice(0, 16)}`), async (out) => {
    const work = await ownedTempDir("pcshare-source-");
    const step = progress(`Preparing ${what}`);
    try {
      const tree = path.join(work, "tree");
      await mkdir(tree, { mode: 0o755 });
      await fill(tree, work);
      await execa("find", [tree, "-mindepth", "1", "!", "-type", "f", "!", "-type", "d", "!", "-type", "l", "-delete"]);
      await execa("tar", ["--sort=name", "--format=gnu", "--numeric-owner", "--owner=0", "--group=0", "-C", tree, "-cf", path.join(out, TREE_TAR), "."]);
      step.ok();
    } catch (err) {
      step.fail();
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
  return path.join(dir, TREE_TAR);
}

/** The file tree of Debian package `pkg` at `version`, from the first suite whose candidate it is. */
async function debTree(pkg: string, version: string, what: string): Promise<string> {
  return normalizedTree(`deb-${pkg}-${version}`, what, async (tree, work) => {
    const seen: string[] = [];
    for (const suite of DEB_SUITES) {
      const archive = new DebianArchive(suite);
      const rec = await archive.show(pkg);
      if (rec) seen.push(`${suite} ${rec.version}`);
      if (rec?.version !== version) continue;
      const d = await archive.download(pkg, path.join(work, "debs"));
      const r = await execa("dpkg-deb", ["-x", d.path, tree], { reject: false, all: true });
      if (r.exitCode !== 0) throw new Error(`${d.path}: dpkg-deb could not unpack it: ${(r.all ?? "").trim()}`);
      return;
    }
    throw new InputError(`${what}: version ${version} of ${pkg} is in none of Debian ${DEB_SUITES.join(", ")} (seen: ${seen.join(", ") || "no such package"}); pick one of those versions`);
  });
}

/** A container-like root filesystem: mmdebstrap minbase of `suite` plus `packages`. */
async function rootfsTree(suite: string, packages: string[], what: string): Promise<string> {
  const version = await mmdebstrapVersion();
  const key = `rootfs-${suite}-${hex(JSON.stringify({ suite, packages, mirror: DEBIAN_MIRROR, version }))}`;
  return normalizedTree(key, what, async (tree, work) => {
    const out = path.join(work, "rootfs.tar");
    const args = ["--quiet", "--variant=minbase", "--mode=root", "--format=tar"];
    if (packages.length) args.push(`--include=${packages.join(",")}`);
    const r = await execa("mmdebstrap", [...args, suite, out, `deb ${DEBIAN_MIRROR} ${suite} main`], { reject: false, all: true, env: { LC_ALL: "C", SOURCE_DATE_EPOCH: "0" } });
    if (r.exitCode !== 0) {
      const tail = (r.all ?? "").trim().split("\n").slice(-4).join("\n  ");
      throw new InputError(`${what}: mmdebstrap failed (exit ${r.exitCode}); check the suite and package names:\n  ${tail}`);
    }
    await untar(out, tree);
    await rm(out);
  });
}

async function mmdebstrapVersion(): Promise<string> {
  const r = await execa("mmdebstrap", ["--version"], { reject: false });
  if (r.exitCode !== 0 || r.failed) throw new InputError("rootfs: sources need mmdebstrap; install it (apt-get install mmdebstrap)");
  return r.stdout.trim();
}
