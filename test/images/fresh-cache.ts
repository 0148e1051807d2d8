// Test helper: run `fn` with PCSHARE_CACHE pointing at a new empty cache under `parent`, then restore it.
import { mkdtemp } from "node:fs/promises";
import path from "node:path";

export async function inFreshCache<T>(parent: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PCSHARE_CACHE;
  process.env.PCSHARE_CACHE = await mkdtemp(path.join(parent, "cache-"));
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.PCSHARE_CACHE;
    else process.env.PCSHARE_CACHE = saved;
  }
}
