// Kernel modules for the guest: find the ones asked for in an unpacked modules tree, resolve their
// dependencies (the `depends=` field of each module's .modinfo, the data depmod writes to modules.dep),
// and copy them uncompressed in load order, so busybox insmod can load them without kmod.
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { driveBusFromEnv, driveBusModules } from "../vm/drive-bus.ts";

/** Modules the guest needs when the kernel has them as modules (built-in ones are skipped). */
export const GUEST_MODULES = ["virtio_blk", "erofs", "loop", "overlay"];

/** GUEST_MODULES, those of the drive bus (PCSHARE_DRIVE_BUS) and any named in PCSHARE_EXTRA_MODULES (comma-separated, e.g. "ext4,xfs"). */
export function guestModules(): string[] {
  const extra = (process.env.PCSHARE_EXTRA_MODULES ?? "").split(",").map((m) => m.trim()).filter(Boolean);
  return [...new Set([...GUEST_MODULES, ...driveBusModules(driveBusFromEnv()), ...extra])];
}

async function listModuleFiles(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  async function walk(d: string) {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) {
        found.set(e.name.replace(/\.ko(\.xz|\.zst|\.gz)?$/, "").replace(/-/g, "_"), p);
      }
    }
  }
  await walk(dir);
  return found;
}

async function decompressed(file: string): Promise<Buffer> {
  if (file.endsWith(".ko")) return readFile(file);
  const tool = file.endsWith(".xz") ? "xz" : file.endsWith(".zst") ? "zstd" : "gzip";
  const r = await execa(tool, ["-dc", file], { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 });
  return Buffer.from(r.stdout);
}

/** All values of a .modinfo field (e.g. "depends", "softdep", "alias") in a module's bytes. */
export function modinfoValues(ko: Buffer, field: string): string[] {
  const values: string[] = [];
  const needle = Buffer.from(`\0${field}=`);
  for (let i = ko.indexOf(needle); i >= 0; i = ko.indexOf(needle, i + 1)) {
    const end = ko.indexOf(0, i + 1);
    values.push(ko.subarray(i + needle.length, end).toString("latin1"));
  }
  return values;
}

/** The `depends=` list from a module's .modinfo strings. */
export function moduleDepends(ko: Buffer): string[] {
  const list = modinfoValues(ko, "depends")[0] ?? "";
  return list ? list.split(",").map((m) => m.replace(/-/g, "_")) : [];
}

/** Names from `softdep=pre: a b post: c` (modprobe loads them too; e.g. libcrc32c -> crc32c). */
export function moduleSoftdeps(ko: Buffer): string[] {
  return modinfoValues(ko, "softdep").flatMap((v) =>
    v
      .split(/\s+/)
      .filter((w) => w && !/^(pre|post):$/.test(w))
      .map((m) => m.replace(/-/g, "_")),
  );
}

/**
 * Copy `wanted` modules (names with _ or -) and their dependencies from `modulesDir` into `destDir`
 * uncompressed; return their file names in load order. Names listed in `builtin` are skipped.
 */
export async function collectModules(
  modulesDir: string,
  wanted: string[],
  destDir: string,
  builtin: Set<string>,
): Promise<{ order: string[]; deps: Record<string, string[]> }> {
  const files = await listModuleFiles(modulesDir);
  const order: string[] = [];
  const deps: Record<string, string[]> = {};
  const visiting = new Set<string>();
  await mkdir(destDir, { recursive: true });

  // A softdep names a module or an alias ("crc32c" is provided by crc32c_generic): try the name, then
  // modules whose name starts with it, checking their alias= fields (modules.alias is not shipped).
  async function aliasProvider(alias: string): Promise<string | undefined> {
    if (builtin.has(alias)) return undefined;
    if (files.has(alias)) return alias;
    // The portable implementation first (crc32c_generic runs on any CPU; crc32c_intel needs SSE4.2).
    const candidates = [...files].filter(([n]) => n.startsWith(alias) && !builtin.has(n));
    candidates.sort(([a], [b]) => Number(b.endsWith("_generic")) - Number(a.endsWith("_generic")));
    for (const [candidate, file] of candidates) {
      const aliases = modinfoValues(await decompressed(file), "alias");
      if (aliases.includes(alias) || aliases.includes(`crypto-${alias}`)) return candidate;
    }
    return undefined;
  }

  async function visit(name: string, optional: boolean): Promise<void> {
    if (deps[name] || builtin.has(name)) return;
    const file = files.get(name);
    if (!file) {
      if (optional) return;
      throw new Error(`kernel module "${name}" is neither built in nor present under ${modulesDir}`);
    }
    if (visiting.has(name)) throw new Error(`module dependency cycle at ${name}`);
    visiting.add(name);
    const ko = await decompressed(file);
    deps[name] = moduleDepends(ko);
    for (const d of deps[name]) await visit(d, false);
    for (const alias of moduleSoftdeps(ko)) {
      const provider = await aliasProvider(alias);
      if (provider) {
        deps[name].push(provider);
        await visit(provider, true);
      }
    }
    await writeFile(path.join(destDir, `${name}.ko`), ko);
    order.push(`${name}.ko`);
    visiting.delete(name);
  }
  // Wanted modules are optional (a kernel without erofs is reported by the capability check, not
  // here); a dependency that is missing is an error.
  for (const w of wanted) await visit(w.replace(/-/g, "_"), true);
  return { order, deps };
}

/** Names of built-in modules from a modules.builtin file ("kernel/fs/erofs/erofs.ko" lines). */
export function parseBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter(Boolean)
      .map((l) => path.basename(l).replace(/\.ko$/, "").replace(/-/g, "_")),
  );
}
