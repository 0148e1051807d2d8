// Temporary directories that name their owner (<prefix><pid>.<start>.<boot>-XXXXXX), so that the
// directories of a pcshare killed by SIGKILL, which ran no cleanup, are removed by the next run.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ownerAlive, ownerTag, parseOwnerTag } from "./owner.ts";

const swept = new Set<string>();

/** A new private (0700) directory under `parent` (the system temp dir); stale ones of the same prefix go first. */
export async function ownedTempDir(prefix: string, parent = os.tmpdir()): Promise<string> {
  if (!swept.has(`${parent}\0${prefix}`)) {
    swept.add(`${parent}\0${prefix}`);
    await sweepStaleTempDirs(prefix, parent);
  }
  return mkdtemp(path.join(parent, `${prefix}${ownerTag()}-`));
}

/** Removes `<parent>/<prefix>*` directories whose owner no longer runs; returns the removed paths. */
export async function sweepStaleTempDirs(prefix: string, parent = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const owner = parseOwnerTag(name.slice(prefix.length).replace(/-[^-]*$/, ""));
    if (!owner || ownerAlive(owner)) continue; // unnamed owners (older pcshare) are left alone
    const dir = path.join(parent, name);
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
