// The on-disk cache: where it lives and how entries are written (atomically, safe with concurrent runs).
// An entry is a directory named by its key; it is built in a private temporary sibling and renamed
// into place, so a reader sees either nothing or a complete entry, never a half-written one.
import { mkdir, rename, rm, stat, mkdtemp } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { exists } from "./fs.ts";

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

/**
 * Return the directory of cache entry `area/key`, building it with `build(tmpDir)` when absent.
 * `build` writes into a fresh temporary directory; on success it is renamed into place. If another
 * run finished the same entry first, ours is discarded and theirs is used. On failure nothing is left.
 */
export async function cachedDir(
  area: string,
  key: string,
  build: (tmpDir: string) => Promise<void>,
): Promise<string> {
  const final = cachePath(area, key);
  if (await exists(final)) return final;
  await mkdir(path.dirname(final), { recursive: true });
  const tmp = await mkdtemp(path.join(path.dirname(final), `.tmp-${key}-`));
  try {
    await build(tmp);
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
