// Memory signals read from the guest: page cache size (/proc/meminfo Cached, Buffers), per-cgroup
// file bytes (memory.stat), erofs inode slab objects (/proc/slabinfo). Every figure in bytes or counts.
import type { AgentClient } from "../guest/agent-client.ts";

export interface CacheSnapshot {
  cachedBytes: number;
  buffersBytes: number;
}

export async function cacheSnapshot(agent: AgentClient): Promise<CacheSnapshot> {
  const m = await agent.meminfo();
  return { cachedBytes: (m.Cached ?? 0) * 1024, buffersBytes: (m.Buffers ?? 0) * 1024 };
}

/** Drop clean page cache, dentries and inodes (what `echo 3 > drop_caches` does), after a sync. */
export async function dropCaches(agent: AgentClient): Promise<void> {
  await agent.sync();
  await agent.writeFile("/proc/sys/vm/drop_caches", "3");
}

/** A cgroup v2 memory.stat field in bytes (e.g. "file"), or undefined if absent. */
export async function memcgStat(agent: AgentClient, cgroup: string, field = "file"): Promise<number | undefined> {
  const { data } = await agent.readFile(`/sys/fs/cgroup/${cgroup}/memory.stat`);
  const m = data.toString("utf8").match(new RegExp(`^${field} (\\d+)$`, "m"));
  return m ? Number(m[1]) : undefined;
}

/** Active objects of erofs's inode slab cache (erofs_inode), from /proc/slabinfo; undefined if not listed. */
export async function erofsInodeObjects(agent: AgentClient): Promise<number | undefined> {
  const { data } = await agent.readFile("/proc/slabinfo", { maxBytes: 4 << 20 });
  const line = data
    .toString("utf8")
    .split("\n")
    .find((l) => /^erofs_inode\s/.test(l));
  return line ? Number(line.split(/\s+/)[1]) : undefined;
}
