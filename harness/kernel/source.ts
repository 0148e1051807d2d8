// Kernel source trees to build from: Debian's `linux-source-<major.minor>` matching the default kernel
// (downloaded once, its tar.xz unpacked into the cache, never written again) or a user's tree
// (`--tree DIR`, git checkout or plain directory), which pcshare only ever reads.
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { DebianArchive, extractDeb } from "../util/debian-archive.ts";
import { cachedDir, cacheRoot } from "../util/cache.ts";
import { sha256Hex } from "../util/hash.ts";
import { progress } from "../util/progress.ts";
import { DEFAULT_DEBIAN_SUITE, resolveDebianKernel } from "./debian.ts";

export interface SourceTree {
  /** Top of the pristine tree (has Makefile, Kconfig, fs/erofs). Read only. */
  dir: string;
  kind: "debian" | "tree";
  /** Short, file-name safe key naming this source in cache keys. */
  key: string;
  /** For KernelInfo.source: "debian-source:7.2.13-1" or "tree:/abs/dir". */
  label: string;
  /** What the tree is: Debian package version, or `git describe --always --dirty` (or "plain directory"). */
  base: string;
  /** The tree is a git checkout (git ranges can be taken from it). */
  git: boolean;
}

/** Bumped when the layout of an unpacked source entry changes. */
const LAYOUT = 1;

/**
 * Debian's kernel source for `suite` (default sid), the version matching that suite's linux-image-amd64
 * (the default kernel), unpacked once into cachedDir("sources", ...).
 */
export async function debianSource(suite = DEFAULT_DEBIAN_SUITE): Promise<SourceTree> {
  const { archive, version } = await resolveDebianKernel(suite);
  const meta = await archive.show("linux-source");
  const pkg = meta?.depends.match(/\b(linux-source-\d+\.\d+)\b/)?.[1];
  if (!meta || !pkg) throw new Error(`Debian ${suite} has no linux-source package (needed to build kernels from Debian's source)`);
  if (meta.version !== version) {
    throw new Error(`Debian ${suite}: linux-source is ${meta.version} but the default kernel is ${version}; retry after the archive settles`);
  }
  const key = `debian-${pkg}-${version}-v${LAYOUT}`.replace(/[^A-Za-z0-9.+_-]/g, "_");
  // Sizes only: the tree is large and its files are hard-linked into build workspaces (which moves their ctime).
  const entry = await cachedDir("sources", key, (tmp) => unpackDebianSource(archive, pkg, tmp), { verify: "size" });
  const dir = path.join(entry, "tree");
  return { dir, kind: "debian", key: `debian-${version}`.replace(/[^A-Za-z0-9.+_-]/g, "_"), label: `debian-source:${version}`, base: version, git: false };
}

async function unpackDebianSource(archive: DebianArchive, pkg: string, tmp: string): Promise<void> {
  const work = path.join(tmp, ".work");
  const rec = await archive.download(pkg, work);
  await extractDeb(rec.path, path.join(work, "root"));
  await rm(rec.path);
  const srcDir = path.join(work, "root", "usr", "src");
  const tarball = (await readdir(srcDir)).find((f) => /^linux-source-.*\.tar\.(xz|gz|bz2|zst)$/.test(f));
  if (!tarball) throw new Error(`${pkg}: no linux-source tarball under /usr/src in the package`);
  const done = progress(`Unpacking ${tarball}`);
  try {
    await mkdir(path.join(tmp, "tree"));
    await execa("tar", ["-xf", path.join(srcDir, tarball), "-C", path.join(tmp, "tree"), "--strip-components=1"]);
  } catch (err) {
    done.fail();
    throw err;
  }
  done.ok();
  await rm(work, { recursive: true, force: true });
  await checkTree(path.join(tmp, "tree"), pkg);
  await writeFile(path.join(tmp, "source.json"), JSON.stringify({ package: pkg, version: rec.version, sha256: rec.sha256 }, null, 2));
}

async function checkTree(dir: string, what: string): Promise<void> {
  for (const f of ["Makefile", "Kconfig", "scripts/kconfig/merge_config.sh"]) {
    try {
      await stat(path.join(dir, f));
    } catch {
      throw new Error(`${what}: not a Linux source tree (no ${f} in ${dir})`);
    }
  }
}

async function isGit(dir: string): Promise<boolean> {
  const r = await execa("git", ["-C", dir, "rev-parse", "--show-toplevel"], { reject: false });
  return r.exitCode === 0 && path.resolve(r.stdout.trim()) === path.resolve(dir);
}

/** A user's source tree, used read-only: builds happen in a scratch copy with `make O=`. */
export async function userTree(dir: string): Promise<SourceTree> {
  const abs = path.resolve(dir);
  try {
    if (!(await stat(abs)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new Error(`--tree ${dir}: no such directory`);
  }
  await checkTree(abs, `--tree ${dir}`);
  const git = await isGit(abs);
  let base = "plain directory";
  if (git) {
    const r = await execa("git", ["-C", abs, "describe", "--always", "--dirty", "--tags"], { reject: false });
    base = r.exitCode === 0 ? r.stdout.trim() : "git (no commits)";
  } else {
    const mk = await readFile(path.join(abs, "Makefile"), "utf8");
    const v = (k: string) => mk.match(new RegExp(`^${k}\\s*=\\s*(\\S*)`, "m"))?.[1] ?? "";
    base = `${v("VERSION")}.${v("PATCHLEVEL")}.${v("SUBLEVEL")}${v("EXTRAVERSION")} (plain directory)`;
  }
  return { dir: abs, kind: "tree", key: `tree-${sha256Hex(abs).slice(0, 12)}`, label: `tree:${abs}`, base, git };
}

/** Where scratch copies and build directories live (one workspace per source + fragments). */
export function workspaceRoot(): string {
  return path.join(cacheRoot(), "builds");
}
