// Snapshots of a ready guest. A guest is booted once per kernel + initramfs + drives + QEMU command
// line with its RAM in a file mapped shared (the template); when its agent answers, its device state
// is saved (QMP migrate with x-ignore-shared: RAM is not copied, the file holds it) and QEMU exits.
// Later guests map that RAM file privately (copy-on-write: the template stays clean) and load the
// device state from an open file descriptor, which spawns nothing and opens no path, so it works
// inside QEMU's seccomp sandbox and chroot. Templates are cache entries ("snapshots"), keyed by
// every input of the guest's state and checked against their record before each use: a damaged one
// is rebuilt. Used by vm/launch.ts; restored guests reset their clock and random state (agent
// `resume`).
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, readdir, readFile, rm, stat, utimes } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { cachedDir, cachePath, lookupEntry } from "../util/cache.ts";
import { InputError } from "../util/input-error.ts";
import { progress } from "../util/progress.ts";
import { sweepStaleTempDirs } from "../util/temp.ts";
import { chrootsItself, qemuArgs } from "./qemu-args.ts";
import { Vm, vmSpecOf, type BootOptions, type RestoreSource } from "./vm.ts";

/** "auto": restore when a snapshot can be made or exists, else boot; "off": always boot. */
export type RestoreMode = "auto" | "off";
export const RESTORE_MODES: readonly RestoreMode[] = ["auto", "off"];

export function restoreModeFromEnv(env: NodeJS.ProcessEnv = process.env): RestoreMode {
  const v = env.PCSHARE_RESTORE || "auto";
  if (!(RESTORE_MODES as readonly string[]).includes(v)) throw new InputError(`PCSHARE_RESTORE=${v}: unknown restore mode; use ${RESTORE_MODES.join(" or ")}`);
  return v as RestoreMode;
}

const AREA = "snapshots";
/** Snapshots kept: each new one removes the least recently used beyond this many. */
const KEEP = 8;
const FILES = { ram: "ram", state: "state", console: "console.log" };

/** What a snapshot's guest state depends on, as a cache key. */
export async function snapshotKey(boot: BootOptions): Promise<string> {
  // The command line as the template would run it, with this VM's private paths left out.
  const argv = qemuArgs(vmSpecOf(boot, "/run"), boot.host);
  const files = [boot.host.qemu, boot.kernelImage, boot.initrd, ...(boot.host.firmware ? [boot.host.firmware] : []), ...(boot.drives ?? []).map((d) => d.path)];
  // A file is known by its identity: a rebuilt kernel, initramfs or image is a new file.
  const ids = await Promise.all(files.map(async (f) => {
    const st = await stat(f);
    return [f, st.dev, st.ino, st.size, st.mtimeMs];
  }));
  return `guest-${createHash("sha256").update(JSON.stringify({ format: 1, argv, ids })).digest("hex").slice(0, 32)}`;
}

/** Snapshots being made by this process (the guests of a --jobs run wait for the same one). */
const making = new Map<string, Promise<string>>();

/**
 * The snapshot for guests booted with `boot`, made first when there is none (one boot). The entry is
 * checked against its record at every use: a damaged one is made anew.
 */
export async function snapshotFor(boot: BootOptions): Promise<RestoreSource> {
  const key = await snapshotKey(boot);
  let dir = await lookupEntry(AREA, key);
  if (!dir) {
    let p = making.get(key);
    if (!p) {
      p = makeSnapshot(key, boot).finally(() => making.delete(key));
      making.set(key, p);
    }
    dir = await p;
  }
  await utimes(dir, new Date(), new Date()).catch(() => {}); // recently used: kept by the pruning
  return {
    ramFile: path.join(dir, FILES.ram),
    stateFile: path.join(dir, FILES.state),
    bootConsole: (await readFile(path.join(dir, FILES.console), "utf8")).trimEnd(),
    label: `guest restored from snapshot ${key} (made ${(await stat(path.join(dir, FILES.state))).mtime.toISOString()}); its own output follows`,
  };
}

async function makeSnapshot(key: string, boot: BootOptions): Promise<string> {
  const step = progress(`making guest snapshot ${key}`);
  try {
    const dir = await cachedDir(AREA, key, async (tmp) => {
      // The guest that asked first can stop it (a run that ends or is interrupted stops its boots).
      const vm = await Vm.boot({ ...boot, templateRam: path.join(tmp, FILES.ram), artifactsDir: tmp });
      try {
        await saveState(vm, path.join(tmp, FILES.state));
      } finally {
        await vm.kill();
      }
      await rm(path.join(tmp, "qemu.cmd"), { force: true });
    });
    step.ok();
    await prune(key);
    return dir;
  } catch (err) {
    step.fail((err as Error).message);
    throw err;
  }
}

/**
 * Saves the running template's device state into `file`: QEMU connects to a Unix socket in its work
 * directory and streams the migration there. Under -runas QEMU sees that directory as its root and
 * has no rights in it: for this one connection the directory becomes searchable (not listable) and
 * the socket, under an unguessable name, writable.
 */
async function saveState(vm: Vm, file: string): Promise<void> {
  const qmp = vm.qmp!;
  const name = `save-${randomBytes(12).toString("hex")}.sock`;
  const sockPath = path.join(vm.workDir, name);
  const server = net.createServer();
  const received = new Promise<void>((resolve, reject) => {
    server.once("connection", (conn) => {
      server.close();
      const out = createWriteStream(file);
      conn.pipe(out);
      out.on("finish", resolve);
      out.on("error", reject);
      conn.on("error", reject);
    });
  });
  await new Promise<void>((resolve, reject) => server.listen(sockPath, resolve).once("error", reject));
  try {
    const chrooted = chrootsItself(vm.argv);
    if (chrooted) {
      await chmod(vm.workDir, 0o711);
      await chmod(sockPath, 0o666);
    }
    await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "x-ignore-shared", state: true }] });
    await qmp.execute("migrate", { uri: `unix:${chrooted ? `/${name}` : sockPath}` });
    await qmp.migrationDone(60_000);
    await received;
  } finally {
    server.close();
    await chmod(vm.workDir, 0o700).catch(() => {});
  }
}

/** Removes the least recently used snapshots beyond KEEP (never `keep`). */
async function prune(keep: string): Promise<void> {
  const root = path.dirname(cachePath(AREA, keep));
  const names = await readdir(root).catch(() => [] as string[]);
  // What runs killed while making a snapshot left behind (their owner is gone).
  for (const k of new Set(names.flatMap((n) => /^\.tmp-(guest-[0-9a-f]+)-/.exec(n)?.[1] ?? []))) await sweepStaleTempDirs(`.tmp-${k}-`, root);
  const entries = names.filter((n) => n.startsWith("guest-"));
  const aged = await Promise.all(entries.map(async (n) => ({ n, t: (await stat(path.join(root, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(KEEP)) if (n !== keep) await rm(path.join(root, n), { recursive: true, force: true });
}

/** Drops a snapshot that failed to restore, so that the next guest makes it anew. */
export async function discardSnapshot(source: RestoreSource): Promise<void> {
  await rm(path.dirname(source.stateFile), { recursive: true, force: true });
}
