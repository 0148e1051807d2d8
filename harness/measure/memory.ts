// Memory signals read from the guest: page cache size (/proc/meminfo Cached, Buffers), per-cgroup
// file bytes (memory.stat, also read until it settles), erofs inode slab objects (/proc/slabinfo).
// Every figure in bytes or counts.
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

/**
 * memory.current of cgroup `cgroup`, bytes (undefined when the file holds no number): the page counter
 * itself, charged at once (memory.stat's per-CPU figures can lag it), though it runs ahead by the
 * per-CPU charge batches (64 pages a CPU).
 */
export async function memcgCurrent(agent: AgentClient, cgroup: string): Promise<number | undefined> {
  const v = Number((await agent.readFile(`/sys/fs/cgroup/${cgroup}/memory.current`)).data.toString("utf8").trim());
  return Number.isFinite(v) ? v : undefined;
}

export interface SettledStat {
  /** the last value read (the settled one, or the last seen when the bound ran out) */
  value: number;
  /** the first value read */
  first: number;
  /** whether `settled(value)` held */
  ok: boolean;
  /** host milliseconds from the first read to the last (0 when the first read settled) */
  waitedMs: number;
  reads: number;
}

/**
 * Read memory.stat `field` of `cgroup` until `settled(value)` holds, at most `boundMs`. memory.stat is
 * folded from per-CPU counters (rstat): a read flushes only when enough updates are pending, and a flush
 * already under way (the periodic one every 2 s, reclaim's, a refault's) clears that count after its
 * first CPU, so a read during it can show the figure from before the last charges or uncharges until
 * that flush reaches the other CPUs. The periodic flusher has run at least twice within the default 5 s,
 * so a figure still wrong then is the kernel's, not the lag's.
 */
export async function memcgStatUntil(
  agent: AgentClient,
  cgroup: string,
  field: string,
  settled: (value: number) => boolean,
  opts: { boundMs?: number; intervalMs?: number } = {},
): Promise<SettledStat> {
  const boundMs = opts.boundMs ?? 5_000;
  const intervalMs = opts.intervalMs ?? 100;
  const read = async () => {
    const v = await memcgStat(agent, cgroup, field);
    if (v === undefined) throw new Error(`memory.stat of ${cgroup} has no "${field}" field`);
    return v;
  };
  const first = await read();
  const t0 = Date.now();
  let value = first;
  let reads = 1;
  while (!settled(value) && Date.now() - t0 < boundMs) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
    reads++;
  }
  return { value, first, ok: settled(value), waitedMs: reads > 1 ? Date.now() - t0 : 0, reads };
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
