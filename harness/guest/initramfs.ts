// Builds the guest's initramfs: busybox, the init script, the static agent and the kernel's
// modules (in load order). Cached by the hash of everything that goes in.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeCpio, type CpioEntry } from "./cpio.ts";
import { buildAgent } from "./build-agent.ts";
import { cachedDir } from "../util/cache.ts";
import { sha256Hex } from "../util/hash.ts";
import { findBusybox } from "../util/host-tools.ts";

const INIT_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "init.sh");

export interface Initramfs {
  path: string;
  busybox: string;
}

/** The initramfs's own files (init, busybox, agent), without modules: [path, data, mode]. */
export async function guestFiles(): Promise<{ files: [string, Buffer, number][]; busybox: string }> {
  const busybox = await findBusybox();
  const agent = await buildAgent();
  const files: [string, Buffer, number][] = [
    ["init", await readFile(INIT_SCRIPT), 0o755],
    ["bin/busybox", await readFile(busybox), 0o755],
    ["bin/pcshare-agent", await readFile(agent), 0o755],
  ];
  return { files, busybox };
}

/** A kernel's modules in load order: lib/modules/<name>.ko and lib/modules/load.order. */
export async function moduleFiles(modules: string[]): Promise<[string, Buffer, number][]> {
  const files: [string, Buffer, number][] = [];
  for (const m of modules) files.push([`lib/modules/${path.basename(m)}`, await readFile(m), 0o644]);
  files.push(["lib/modules/load.order", Buffer.from(modules.map((m) => path.basename(m)).join("\n") + "\n"), 0o644]);
  return files;
}

/** A newc archive of these files, below the directories the guest expects. */
export function initramfsCpio(files: [string, Buffer, number][]): Buffer {
  const entries: CpioEntry[] = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "lib", "lib/modules", "dev", "proc", "sys", "tmp", "run", "mnt", "root", "etc"].map(
    (d) => ({ path: d, type: "dir" as const }),
  );
  const dirs = new Set(entries.map((e) => e.path));
  for (const [p, data, mode] of files) {
    const parent = path.dirname(p);
    if (parent !== "." && !dirs.has(parent)) {
      dirs.add(parent);
      entries.push({ path: parent, type: "dir" });
    }
    entries.push({ path: p, type: "file", data, mode });
  }
  return writeCpio(entries);
}

/** Build (or reuse) the initramfs for a kernel's module list; returns the cpio path. */
export async function buildInitramfs(modules: string[]): Promise<Initramfs> {
  const { files, busybox } = await guestFiles();
  files.push(...(await moduleFiles(modules)));
  const key = sha256Hex(Buffer.concat(files.flatMap(([p, data]) => [Buffer.from(p + "\0"), Buffer.from(sha256Hex(data))])));
  const dir = await cachedDir("initramfs", key.slice(0, 32), async (tmp) => {
    await writeFile(path.join(tmp, "initramfs.cpio"), initramfsCpio(files));
  });
  return { path: path.join(dir, "initramfs.cpio"), busybox };
}
