// Debian's prebuilt kernels: `debian:<suite>` (default sid) or `debian:<version>`. Downloads the
// kernel packages through a private apt configuration, verifies them against the archive's
// checksums, and keeps only vmlinuz, the config, System.map and the guest's modules in the cache.
import { readFile, writeFile, rm, readdir, stat, mkdtemp, copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { DebianArchive, extractDeb, type PackageRecord } from "../util/debian-archive.ts";
import { cachedDir, cacheRoot } from "../util/cache.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { collectModules, parseBuiltin, guestModules, GUEST_MODULES } from "./modules.ts";
import { parseConfig, recordedOptions, type Kernel } from "./kernel.ts";
import type { KernelInfo } from "../report/model.ts";

export const DEFAULT_DEBIAN_SUITE = "sid";
const SUITES_SEARCHED_FOR_VERSION = ["sid", "experimental", "trixie-backports", "trixie", "forky"];
/** Bumped when the layout of a cached Debian kernel entry changes. */
const LAYOUT = 4;

interface Resolved {
  archive: DebianArchive;
  release: string; // e.g. 7.2.13+deb14-amd64
  version: string; // package version, e.g. 7.2.13-1
}

/** How long a resolved `debian:<spec>` -> release answer is reused without asking the archive. */
const RESOLVE_MAX_AGE_MS = 6 * 3600 * 1000;

interface ResolvedRecord {
  suite: string;
  release: string;
  version: string;
  at: number;
}

function resolvedFile(spec: string): string {
  return path.join(cacheRoot(), "apt", `resolved-${spec.replace(/[^A-Za-z0-9.+_-]/g, "_")}.json`);
}

/**
 * Find the kernel release that `debian:<spec>` names: a suite's linux-image-amd64, or a version.
 * The answer is remembered for a few hours so that a run with a cached kernel asks apt nothing.
 */
export async function resolveDebianKernel(spec: string): Promise<Resolved> {
  try {
    const rec = JSON.parse(await readFile(resolvedFile(spec), "utf8")) as ResolvedRecord;
    if (Date.now() - rec.at < RESOLVE_MAX_AGE_MS) return { archive: new DebianArchive(rec.suite), release: rec.release, version: rec.version };
  } catch {
    /* not resolved recently */
  }
  const r = await resolveFromArchive(spec);
  const rec: ResolvedRecord = { suite: r.archive.suite, release: r.release, version: r.version, at: Date.now() };
  await mkdir(path.dirname(resolvedFile(spec)), { recursive: true });
  await writeFile(resolvedFile(spec), JSON.stringify(rec));
  return r;
}

async function resolveFromArchive(spec: string): Promise<Resolved> {
  const suites = /^\d/.test(spec) ? SUITES_SEARCHED_FOR_VERSION : [spec];
  for (const suite of suites) {
    const archive = new DebianArchive(suite);
    const meta = await archive.show("linux-image-amd64");
    if (!meta) continue;
    const release = meta.depends.match(/linux-image-([^\s,(]+-amd64)\b/)?.[1];
    if (!release) continue;
    if (suites.length > 1 && !meta.version.startsWith(spec) && !release.startsWith(spec)) continue;
    return { archive, release, version: meta.version };
  }
  throw new Error(
    /^\d/.test(spec)
      ? `no Debian suite among ${SUITES_SEARCHED_FOR_VERSION.join(", ")} has kernel version ${spec}; try --kernel debian:<suite>`
      : `Debian suite "${spec}" has no linux-image-amd64 (is the suite name right? e.g. sid, trixie, experimental)`,
  );
}

/** The packages that carry a release's files: split (7.x: binary/modules/base) or one linux-image. */
async function kernelPackages(archive: DebianArchive, release: string): Promise<string[]> {
  const image = await archive.show(`linux-image-${release}`);
  if (!image) throw new Error(`Debian ${archive.suite} has no package linux-image-${release}`);
  const split = ["binary", "modules", "base"].map((p) => `linux-${p}-${release}`);
  if (split.every((p) => image.depends.includes(p))) return split;
  return [`linux-image-${release}`];
}

async function findFile(root: string, test: (rel: string) => boolean): Promise<string | undefined> {
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (test(path.relative(root, p))) return p;
    }
  }
  return undefined;
}

/** Fetch (or reuse from cache) Debian's kernel named by `spec` ("sid", "trixie", "7.2.13"). */
export async function debianKernel(spec = DEFAULT_DEBIAN_SUITE): Promise<Kernel> {
  const { archive, release, version } = await resolveDebianKernel(spec);
  const mods = guestModules();
  const modsTag = mods.join(",") === GUEST_MODULES.join(",") ? "" : `-m${sha256Hex(mods.join(",")).slice(0, 8)}`;
  const key = `debian-${release}-${version}-v${LAYOUT}${modsTag}`.replace(/[^A-Za-z0-9.+_-]/g, "_");
  const dir = await cachedDir("kernels", key, async (tmp) => {
    const work = await mkdtemp(path.join(cacheRoot(), "kernels", ".unpack-"));
    try {
      const records: (PackageRecord & { path: string })[] = [];
      for (const pkg of await kernelPackages(archive, release)) {
        const rec = await archive.download(pkg, work);
        records.push(rec);
        await extractDeb(rec.path, path.join(work, "root"));
        await rm(rec.path);
      }
      const root = path.join(work, "root");
      const vmlinuz = await findFile(root, (r) => /(^boot\/vmlinuz-|\/modules\/[^/]+\/vmlinuz$)/.test(r));
      const config = await findFile(root, (r) => /(^boot\/config-|\/modules\/[^/]+\/config$)/.test(r));
      const sysmap = await findFile(root, (r) => /(^boot\/System\.map-|\/modules\/[^/]+\/System\.map$)/.test(r));
      if (!vmlinuz || !config) throw new Error(`Debian packages of ${release} lack vmlinuz or config`);
      await copyFile(vmlinuz, path.join(tmp, "vmlinuz"));
      await copyFile(config, path.join(tmp, "config"));
      if (sysmap) await copyFile(sysmap, path.join(tmp, "System.map"));
      const modRoot = (await findFile(root, (r) => /modules\/[^/]+\/modules\.order$/.test(r))) ?? "";
      const modDir = modRoot ? path.dirname(modRoot) : path.join(root, "lib", "modules", release);
      const builtinFile = (await findFile(root, (r) => /modules\/[^/]+\/modules\.builtin$/.test(r))) ?? "";
      const builtin = builtinFile ? parseBuiltin(await readFile(builtinFile, "utf8")) : new Set<string>();
      const collected = await collectModules(modDir, mods, path.join(tmp, "modules"), builtin);
      const hashes: Record<string, string> = { vmlinuz: await sha256File(path.join(tmp, "vmlinuz")) };
      for (const r of records) hashes[path.basename(r.filename)] = r.sha256;
      const info: KernelInfo = {
        source: `debian:${archive.suite}`,
        release,
        version,
        hashes,
        config: recordedOptions(parseConfig(await readFile(path.join(tmp, "config"), "utf8"))),
      };
      await writeFile(path.join(tmp, "kernel.json"), JSON.stringify({ info, modules: collected.order, deps: collected.deps }, null, 2));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
  return loadCachedKernel(dir);
}

/** Read a kernel entry written by debianKernel (or any source using the same layout). */
export async function loadCachedKernel(dir: string): Promise<Kernel> {
  const meta = JSON.parse(await readFile(path.join(dir, "kernel.json"), "utf8"));
  const config = parseConfig(await readFile(path.join(dir, "config"), "utf8"));
  await stat(path.join(dir, "vmlinuz"));
  return {
    info: meta.info,
    image: path.join(dir, "vmlinuz"),
    modules: (meta.modules as string[]).map((m) => path.join(dir, "modules", m)),
    config,
  };
}
