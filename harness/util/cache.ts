// The on-disk cache: where it lives and how entries are written and checked (atomically, safe with
// concurrent runs). An entry is a directory named by a key derived from its content's inputs; it is
// built in a private temporary sibling and renamed into place, so a reader sees either nothing or a
// complete entry. Each entry carries a record of its files (size, sha256); an entry is checked against
// it before every use, and a damaged one (truncated, changed, files missing) is replaced by a rebuild.
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { exists } from "./fs.ts";
import { sha256File } from "./hash.ts";
import { ownerTag } from "./owner.ts";
import { sweepStaleTempDirs } from "./temp.ts";

/** Root of pcshare's cache: $PCSHARE_CACHE, else $XDG_CACHE_HOME/pcshare, else ~/.cache/pcshare. */
export function cacheRoot(): string {
  if (process.env.PCSHARE_CACHE) return path.resolve(process.env.PCSHARE_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache");
  return path.join(xdg, "pcshare");
}

/** Path of a cache entry (may not exist yet). `area` groups entries: "kernels", "images", "tools". */
export function cachePath(area: string, key: string): string {
  return path.join(cacheRoot(), area, key);
}

/** The record of an entry's files, kept inside the entry. */
export const RECORD_FILE = ".pcshare-entry.json";

/**
 * How an entry is checked before use. "hash": every file's size, and its sha256 whenever the file was
 * touched since it was recorded (its ctime moved, which every write does); "size": sizes only (for
 * huge trees such as unpacked kernel sources, whose files are hard-linked into build workspaces).
 */
export type Verify = "hash" | "size";

interface FileRecord {
  path: string;
  size: number;
  sha256?: string;
  ctimeMs?: number;
}

interface EntryRecord {
  format: 1;
  verify: Verify;
  files: FileRecord[];
}

export interface CacheOptions {
  verify?: Verify;
  /** An extra check of a complete entry (e.g. an image against its manifest); returns a problem or undefined. */
  check?: (dir: string) => Promise<string | undefined>;
}

async function listFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(dir, p)));
    else if (e.isFile() && p !== RECORD_FILE) out.push(p);
  }
  return out.sort();
}

/** Write the record of every regular file under `dir` (atomically: a reader never sees half a record). */
export async function recordEntry(dir: string, verify: Verify): Promise<void> {
  const files: FileRecord[] = [];
  for (const p of await listFiles(dir)) {
    const st = await lstat(path.join(dir, p));
    files.push(verify === "hash" ? { path: p, size: st.size, sha256: await sha256File(path.join(dir, p)), ctimeMs: st.ctimeMs } : { path: p, size: st.size });
  }
  const tmp = path.join(dir, `${RECORD_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify({ format: 1, verify, files } satisfies EntryRecord));
  await rename(tmp, path.join(dir, RECORD_FILE));
}

/** What is wrong with a complete entry, or undefined when it matches its record. */
export async function entryProblem(dir: string): Promise<string | undefined> {
  let record: EntryRecord;
  try {
    record = JSON.parse(await readFile(path.join(dir, RECORD_FILE), "utf8")) as EntryRecord;
    if (record.format !== 1 || !Array.isArray(record.files)) return `${RECORD_FILE} is not a record this pcshare writes`;
  } catch (err) {
    return `${RECORD_FILE} ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : "is unreadable"}`;
  }
  for (const f of record.files) {
    const st = await lstat(path.join(dir, f.path)).catch(() => undefined);
    if (!st?.isFile()) return `${f.path} is missing`;
    if (st.size !== f.size) return `${f.path} is ${st.size} bytes, recorded ${f.size}`;
    if (f.sha256 && st.ctimeMs !== f.ctimeMs && (await sha256File(path.join(dir, f.path))) !== f.sha256) {
      return `${f.path} changed since it was cached (sha256 differs)`;
    }
  }
  return undefined;
}

/**
 * The checked entry `area/key`, or undefined when there is none or it was damaged (then it is removed
 * with a message). An entry from before records existed is checked by `check` alone and then recorded.
 */
export async function lookupEntry(area: string, key: string, opts: CacheOptions = {}): Promise<string | undefined> {
  const dir = cachePath(area, key);
  if (!(await exists(dir))) return undefined;
  const legacy = !(await exists(path.join(dir, RECORD_FILE)));
  const problem = (legacy ? undefined : await entryProblem(dir)) ?? (await opts.check?.(dir));
  if (problem) {
    process.stderr.write(`pcshare: cache entry ${path.join(area, key)} is damaged (${problem}); rebuilding it\n`);
    await discard(dir, key);
    return undefined;
  }
  if (legacy) await recordEntry(dir, opts.verify ?? "hash").catch(() => {});
  return dir;
}

/** Move a damaged entry out of the way (readers holding its files keep them), then delete it. */
async function discard(dir: string, key: string): Promise<void> {
  const aside = path.join(path.dirname(dir), `.damaged-${key}-${process.pid}-${Date.now()}`);
  try {
    await rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // another run discarded it first
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

/**
 * Return the directory of cache entry `area/key`, building it with `build(tmpDir)` when absent or
 * damaged. `build` writes into a fresh temporary directory; on success its files are recorded and it
 * is renamed into place. If another run finished the same entry first, ours is discarded and theirs is
 * used. On failure nothing is left.
 */
export async function cachedDir(area: string, key: string, build: (tmpDir: string) => Promise<void>, opts: CacheOptions = {}): Promise<string> {
  const found = await lookupEntry(area, key, opts);
  if (found) return found;
  const final = cachePath(area, key);
  await mkdir(path.dirname(final), { recursive: true });
  // Named by its owner, so that what a killed run left (SIGKILL runs no cleanup) is removed by the next one.
  await sweepStaleTempDirs(`.tmp-${key}-`, path.dirname(final));
  const tmp = await mkdtemp(path.join(path.dirname(final), `.tmp-${key}-${ownerTag()}-`));
  try {
    await build(tmp);
    await recordEntry(tmp, opts.verify ?? "hash");
    try {
      await rename(tmp, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === "ENOTEMPTY" || code === "EEXIST") && (await exists(final))) {
        await rm(tmp, { recursive: true, force: true });
      } else {
        throw err;
      }
    }
    return final;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
