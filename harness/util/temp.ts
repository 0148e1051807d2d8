// Temporary directories that name their owner (<prefix><pid>.<start>.<boot>-XXXXXX), so that the
// directories of a pcshare killed by SIGKILL, which ran no cleanup, are removed by the next run.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ownerAlive, ownerTag, parseOwnerTag } from "./owner.ts";

const swept = new Set<string>();

/** A new private (0700) directory under the system temp dir; stale ones of the same prefix go first. */
export async function ownedTempDir(prefix: string): Promise<string> {
  if (!swept.has(prefix)) {
    swept.add(prefix);
    await sweepStaleTempDirs(prefix);
  }
  return mkdtemp(path.join(os.tmpdir(), `${prefix}${ownerTag()}-`));
}

/** Removes `<tmp>/<prefix>*` directories whose owner no longer runs; returns the removed paths. */
export async function sweepStaleTempDirs(prefix: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const owner = parseOwnerTag(name.slice(prefix.length).replace(/-[^-]*$/, ""));
    if (!owner || ownerAlive(owner)) continue; // unnamed owners (older pcshare) are left alone
    const dir = path.join(os.tmpdir(), name);
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
