// A lock directory for one user at a time across processes (a kernel build workspace). The holder
// is recorded as an Owner (pid, start time, boot), so a lock left by a process that died without
// releasing it (SIGKILL, power loss, a container whose next run gets the same pid) is taken over.
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ownerAlive, selfOwner, type Owner } from "./owner.ts";
import { progress } from "./progress.ts";
import { trackDir, releaseDir } from "../vm/reaper.ts";

const POLL_MS = 2_000;
/** A lock directory without owner file may be one being taken right now: reclaimed only this old. */
const UNOWNED_GRACE_MS = 10_000;

/** Who holds `lock` and whether it still runs; undefined when nobody does (or nobody known). */
export async function lockHolder(lock: string): Promise<{ owner?: Owner; alive: boolean } | undefined> {
  try {
    const owner = JSON.parse(await readFile(path.join(lock, "owner.json"), "utf8")) as Owner;
    return { owner, alive: ownerAlive(owner) };
  } catch {
    /* no owner file (yet) */
  }
  const pid = Number(await readFile(path.join(lock, "pid"), "utf8").catch(() => "0")); // older pcshare
  if (pid > 0) return { owner: { pid, start: 0, boot: "" }, alive: pidRuns(pid) };
  const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs).catch(() => Number.NaN));
  if (Number.isNaN(age)) return undefined;
  return { alive: age < UNOWNED_GRACE_MS };
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `lock` is free (or held by a dead owner), takes it and returns the release function. */
export async function acquireLock(lock: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(lock), { recursive: true });
  let waiting: ReturnType<typeof progress> | undefined;
  for (;;) {
    try {
      await mkdir(lock);
      trackDir(lock); // a signal releases it once the children working under it have stopped
      await writeFile(path.join(lock, "owner.json"), JSON.stringify(selfOwner()));
      waiting?.ok();
      return async () => {
        releaseDir(lock);
        await rm(lock, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = await lockHolder(lock);
    if (holder && !holder.alive) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    waiting ??= progress(`Waiting for ${lock} (held by pid ${holder?.owner?.pid ?? "?"})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
