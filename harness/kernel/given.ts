// A kernel the user built: `--kernel PATH` (a bzImage) with an optional modules directory
// (`--modules DIR`, e.g. a `make modules_install INSTALL_MOD_PATH=` tree) and config (a `.config`
// beside it or in the build tree two levels up, or `--kernel-config FILE`).
import { readFile, stat, writeFile } from "node:fs/promises";
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
  let modules: string[] = [];
  if (opts.modulesDir) {
    const modDir = path.resolve(opts.modulesDir);
    const key = `given-${sha256Hex(imageHash + "\0" + modDir + "\0" + guestModules().join(",")).slice(0, 24)}`;
    const cached = await cachedDir("kernels", key, async (tmp) => {
      const builtinFile = await firstExisting([path.join(modDir, "modules.builtin")]);
      const builtin = builtinFile ? parseBuiltin(await readFile(builtinFile, "utf8")) : new Set<string>();
      const mods = await collectModules(modDir, guestModules(), path.join(tmp, "modules"), builtin);
      await writeFile(path.join(tmp, "modules.json"), JSON.stringify(mods));
    });
    const meta = JSON.parse(await readFile(path.join(cached, "modules.json"), "utf8")) as { order: string[] };
    modules = meta.order.map((m) => path.join(cached, "modules", m));
  }
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
