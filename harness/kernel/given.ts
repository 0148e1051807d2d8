// A kernel the user built: `--kernel PATH` (a bzImage) with an optional modules directory
// (`--modules DIR`, e.g. a `make modules_install INSTALL_MOD_PATH=` tree) and config (a `.config`
// beside it or in the build tree two levels up, or `--kernel-config FILE`).
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { cachedDir } from "../util/cache.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { collectModules, parseBuiltin, guestModules } from "./modules.ts";
import { parseConfig, recordedOptions, type Kernel } from "./kernel.ts";
import { findDecodeScript } from "./symbolize.ts";
import { firstExisting } from "../util/fs.ts";

/** The kernel release embedded in a bzImage (the kernel_version string the setup header points at). */
export async function bzImageRelease(image: string): Promise<string> {
  const buf = await readFile(image);
  if (buf.length < 0x210 || buf.toString("latin1", 0x202, 0x206) !== "HdrS") return "unknown";
  const off = buf.readUInt16LE(0x20e) + 0x200;
  const end = buf.indexOf(0, off);
  return buf.toString("latin1", off, end).split(" ")[0] || "unknown";
}

/**
 * The guest modules (and their dependencies) from a modules tree, in load order. They are collected
 * first and the cache entry is keyed by the collected bytes, so a changed module in the same
 * directory is a new entry, never the old one.
 */
async function givenModules(modDir: string): Promise<string[]> {
  const work = await mkdtemp(path.join(tmpdir(), "pcshare-modules-"));
  try {
    const builtinFile = await firstExisting([path.join(modDir, "modules.builtin")]);
    const builtin = builtinFile ? parseBuiltin(await readFile(builtinFile, "utf8")) : new Set<string>();
    const mods = await collectModules(modDir, guestModules(), path.join(work, "modules"), builtin);
    const parts = [JSON.stringify(mods)];
    for (const m of mods.order) parts.push(`${m}\0${await sha256File(path.join(work, "modules", m))}`);
    const key = `given-modules-${sha256Hex(parts.join("\n")).slice(0, 32)}`;
    const cached = await cachedDir("kernels", key, async (tmp) => {
      await cp(path.join(work, "modules"), path.join(tmp, "modules"), { recursive: true });
      await writeFile(path.join(tmp, "modules.json"), JSON.stringify(mods));
    });
    return mods.order.map((m) => path.join(cached, "modules", m));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function givenKernel(image: string, opts: { modulesDir?: string; configFile?: string } = {}): Promise<Kernel> {
  const abs = path.resolve(image);
  try {
    await stat(abs);
  } catch {
    throw new Error(`--kernel ${image}: no such file (give a bzImage, or debian:<suite> for a Debian kernel)`);
  }
  const dir = path.dirname(abs);
  const configFile =
    opts.configFile ?? (await firstExisting([path.join(dir, ".config"), path.join(dir, "config"), path.resolve(dir, "../../../.config")]));
  const config = configFile ? parseConfig(await readFile(configFile, "utf8")) : {};
  const release = await bzImageRelease(abs);
  const imageHash = await sha256File(abs);
  const modules = opts.modulesDir ? await givenModules(path.resolve(opts.modulesDir)) : [];
  const vmlinux = await firstExisting([path.join(dir, "vmlinux"), path.resolve(dir, "../../../vmlinux")]);
  return {
    info: {
      source: `path:${abs}`,
      release,
      version: release,
      hashes: { bzImage: imageHash },
      config: recordedOptions(config),
    },
    image: abs,
    modules,
    config,
    vmlinux,
    decodeScript: vmlinux && (await findDecodeScript(vmlinux)),
  };
}
