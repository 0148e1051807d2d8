// Owns: finding or provisioning erofs-utils >= 1.9 (mkfs.erofs, dump.erofs, fsck.erofs).
// Order: $PCSHARE_EROFS_UTILS_DIR, else the system's tools when new enough, else sid's erofs-utils
// unpacked into the cache and run through sid's own dynamic loader (bookworm's glibc is too old for it);
// the libraries sid's build needs beyond glibc and libxml2 come from the host's packages.
import { copyFile, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { cachedDir, cachePath, lookupEntry } from "../util/cache.ts";
import { DebianArchive, extractDeb } from "../util/debian-archive.ts";
import { progress } from "../util/progress.ts";

export interface ErofsTools {
  /** argv prefixes: run as execa(t.mkfs[0], [...t.mkfs.slice(1), ...args]). */
  mkfs: string[];
  dump: string[];
  fsck: string[];
  /** e.g. "1.9.4" */
  version: string;
  /** where the tools came from: "env:<dir>", "system", "debian-sid:<pkg version>" */
  source: string;
}

export const MIN_VERSION = "1.9";
const PREFIX = "erofs-utils-";
const TOOLS = ["mkfs.erofs", "dump.erofs", "fsck.erofs"] as const;
/** Files taken from sid's packages; everything else is loaded from the host. */
const SID_LIBS = ["ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libxml2.so.16"];
/** Host library (soname) -> the bookworm package that provides it. */
const HOST_LIB_PACKAGES: Record<string, string> = {
  "liblz4.so.1": "liblz4-1",
  "liblzma.so.5": "liblzma5",
  "libz.so.1": "zlib1g",
  "libzstd.so.1": "libzstd1",
  "libdeflate.so.0": "libdeflate0",
  "libxxhash.so.0": "libxxhash0",
  "libuuid.so.1": "libuuid1",
  "libselinux.so.1": "libselinux1",
  "libcurl.so.4": "libcurl4",
  "libcrypto.so.3": "libssl3",
  "libjson-c.so.5": "libjson-c5",
};

let memo: Promise<ErofsTools> | undefined;

/** The erofs-utils to use (memoized per process; a failure is not memoized). */
export function erofsTools(): Promise<ErofsTools> {
  if (!memo) {
    memo = findTools();
    memo.catch(() => (memo = undefined));
  }
  return memo;
}

async function findTools(): Promise<ErofsTools> {
  const envDir = process.env.PCSHARE_EROFS_UTILS_DIR;
  if (envDir) {
    const dir = path.resolve(envDir);
    for (const t of TOOLS) {
      if (!(await isFile(path.join(dir, t)))) {
        throw new Error(`PCSHARE_EROFS_UTILS_DIR=${envDir}: ${t} not found there (the directory must hold ${TOOLS.join(", ")})`);
      }
    }
    const tools = toolsFrom((t) => [path.join(dir, t)], `env:${dir}`);
    const version = await mkfsVersion(tools.mkfs);
    if (!version) throw new Error(`PCSHARE_EROFS_UTILS_DIR=${envDir}: "mkfs.erofs --version" did not report a version`);
    if (!atLeast(version, MIN_VERSION)) {
      throw new Error(`PCSHARE_EROFS_UTILS_DIR=${envDir}: mkfs.erofs ${version} is too old (need >= ${MIN_VERSION} for --xattr-inode-digest)`);
    }
    return { ...tools, version };
  }
  const system = await mkfsVersion(["mkfs.erofs"]);
  if (system && atLeast(system, MIN_VERSION)) {
    return { ...toolsFrom((t) => [t], "system"), version: system };
  }
  return provisionFromSid();
}

function toolsFrom(argv: (tool: string) => string[], source: string): Omit<ErofsTools, "version"> {
  return { mkfs: argv("mkfs.erofs"), dump: argv("dump.erofs"), fsck: argv("fsck.erofs"), source };
}

/** "1.9.4" from `mkfs.erofs --version`, or undefined when the tool is absent or silent. */
export async function mkfsVersion(mkfs: string[]): Promise<string | undefined> {
  const r = await execa(mkfs[0], [...mkfs.slice(1), "--version"], { reject: false, env: { LC_ALL: "C" } });
  if (r.failed && r.exitCode === undefined) return undefined;
  return `${r.stdout}\n${r.stderr}`.match(/mkfs\.erofs[^\n]*?(\d+\.\d+(?:\.\d+)?)/)?.[1];
}

/** Compare dotted versions numerically: atLeast("1.10", "1.9") is true. */
export function atLeast(version: string, min: string): boolean {
  const a = version.split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

async function provisionFromSid(): Promise<ErofsTools> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`no mkfs.erofs >= ${MIN_VERSION} found, and provisioning one from Debian is only done on x86_64 Linux; set PCSHARE_EROFS_UTILS_DIR`);
  }
  // A provisioned copy already in the cache is used as is (no network); otherwise ask sid.
  const cached = await cachedProvisioned();
  const dir = cached ?? (await downloadFromSid());
  await checkHostLibraries(dir);
  const argv = (t: string) => [
    path.join(dir, "lib", "ld-linux-x86-64.so.2"),
    "--library-path",
    path.join(dir, "lib"),
    path.join(dir, "bin", t),
  ];
  const pkgVersion = (await readFile(path.join(dir, "VERSION"), "utf8")).trim();
  const tools = toolsFrom(argv, `debian-sid:${pkgVersion}`);
  const version = await mkfsVersion(tools.mkfs);
  if (!version || !atLeast(version, MIN_VERSION)) {
    throw new Error(`sid's erofs-utils in ${dir} reports version ${version ?? "(none)"}; need >= ${MIN_VERSION}`);
  }
  return { ...tools, version };
}

/** The newest complete erofs-utils entry in the cache, if any. */
async function cachedProvisioned(): Promise<string | undefined> {
  const area = path.dirname(cachePath("tools", "x"));
  let names: string[];
  try {
    names = await readdir(area);
  } catch {
    return undefined;
  }
  const versions = names
    .filter((n) => n.startsWith(`${PREFIX}`))
    .map((n) => ({ n, v: n.slice(PREFIX.length).replace(/-.*$/, "") }))
    .filter(({ v }) => /^\d+(\.\d+)*$/.test(v) && atLeast(v, MIN_VERSION))
    .sort((a, b) => (atLeast(a.v, b.v) ? -1 : 1));
  // Checked before use; a damaged copy is removed (then sid is asked again).
  return versions.length ? lookupEntry("tools", versions[0].n) : undefined;
}

async function downloadFromSid(): Promise<string> {
  const sid = new DebianArchive("sid");
  const rec = await sid.show("erofs-utils");
  if (!rec) throw new Error("erofs-utils not found in Debian sid's package index");
  const key = `${PREFIX}${rec.version.replace(/[^A-Za-z0-9.+-]/g, "_")}`;
  return cachedDir("tools", key, async (tmp) => {
    const step = progress(`Provisioning erofs-utils ${rec.version} from Debian sid`);
    try {
      const debs = path.join(tmp, "debs");
      const root = path.join(tmp, "root");
      for (const pkg of ["erofs-utils", "libc6", "libxml2-16"]) {
        const d = await sid.download(pkg, debs);
        await extractDeb(d.path, root);
      }
      await mkdir(path.join(tmp, "bin"));
      await mkdir(path.join(tmp, "lib"));
      const found = await indexFiles(root);
      for (const name of [...TOOLS, ...SID_LIBS]) {
        const src = found.get(name);
        if (!src) throw new Error(`${name} not found in sid's erofs-utils/libc6/libxml2-16 packages`);
        // copyFile follows symlinks, so lib/ gets the real files.
        await copyFile(src, path.join(tmp, name.endsWith(".erofs") ? "bin" : "lib", name));
      }
      await rm(debs, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
      await writeFile(path.join(tmp, "VERSION"), `${rec.version}\n`);
      await checkHostLibraries(tmp);
      step.ok();
    } catch (err) {
      step.fail();
      throw err;
    }
  });
}

/** Fail with the bookworm package to install when the host lacks a library the tools load. */
async function checkHostLibraries(dir: string): Promise<void> {
  const loader = path.join(dir, "lib", "ld-linux-x86-64.so.2");
  const missing = new Set<string>();
  for (const t of TOOLS) {
    const r = await execa(loader, ["--library-path", path.join(dir, "lib"), "--list", path.join(dir, "bin", t)], {
      reject: false,
    });
    for (const m of `${r.stdout}\n${r.stderr}`.matchAll(/^\s*(\S+) => not found/gm)) missing.add(m[1]);
    if (r.exitCode !== 0 && missing.size === 0) {
      throw new Error(`cannot run ${t} through sid's loader: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
  }
  if (missing.size) {
    const list = [...missing].map((lib) => `${lib} (package ${HOST_LIB_PACKAGES[lib] ?? "unknown"})`);
    const pkgs = [...missing].map((lib) => HOST_LIB_PACKAGES[lib]).filter(Boolean);
    throw new Error(
      `erofs-utils from sid needs host libraries that are missing: ${list.join(", ")}. ` +
        (pkgs.length ? `Install them: apt-get install ${pkgs.join(" ")} (the setup script should have).` : ""),
    );
  }
}

/** basename -> a path under root holding that file's bytes (regular files preferred; symlinks resolved inside root). */
async function indexFiles(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const links = new Map<string, string>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile() && !files.has(e.name)) files.set(e.name, p);
    else if (e.isSymbolicLink() && !links.has(e.name)) {
      const target = await readlink(p);
      links.set(e.name, path.isAbsolute(target) ? path.join(root, target) : path.resolve(path.dirname(p), target));
    }
  }
  for (const [name, p] of links) if (!files.has(name)) files.set(name, p);
  return files;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
