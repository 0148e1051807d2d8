// The page-cache saving of sharing, measured in a guest: every image mounted in one sharing domain,
// every chosen file read source by source with Cached (/proc/meminfo) taken after each source; then
// the same with plain mounts. Each file read is checked against its source's XXH64: the agent reads
// and digests it (paths go as a JSON list checked against its digest, results come back by position).
// A sample of files whose content an earlier file had is checked for identical page frames
// (/proc/self/pagemap): the frames say per file what Cached says in bulk.
import type { AgentClient } from "../guest/agent-client.ts";
import type { HashedFile } from "../guest/protocol.ts";
import type { FileRecord } from "../images/manifest.ts";
import { cacheSnapshot, dropCaches } from "./memory.ts";
import { countEqualFrames } from "./sharing-verdict.ts";
import type { Duplicate } from "./ideal.ts";

export type Access = "read-all" | "mmap-all" | "sample";
export const ACCESS_MODES: readonly Access[] = ["read-all", "mmap-all", "sample"];
export type Mode = "shared" | "plain";

export interface MeasuredImage {
  label: string;
  /** guest block device */
  device: string;
  /** the files to read (paths inside the image, with their digests) */
  files: FileRecord[];
}

export interface WrongFile {
  label: string;
  path: string;
  expected: string;
  seen: string;
}

export interface FrameCheck {
  duplicate: Duplicate;
  pages: number;
  equal: number;
}

export interface ModeResult {
  /** Cached growth while reading each source (bytes), in order */
  growth: number[];
  total: number;
  /** files read and files whose bytes were not the source's */
  read: number;
  wrong: WrongFile[];
  frames: FrameCheck[];
  /** guest time of the reads, ms */
  ms: number;
}

export interface SavingOptions {
  access: Access;
  /** sharing domain (a secret; never shown in /proc/mounts) */
  domain: string;
  /** files to cross-check by page frames (largest first) */
  frameChecks: Duplicate[];
  /** per-call guest timeout for reading one source, ms */
  readTimeoutMs?: number;
}

const MNT = "/mnt/measure";

/** Mount, read and measure in both modes (shared first), unmounting after each. */
export async function measureSaving(agent: AgentClient, images: MeasuredImage[], opts: SavingOptions): Promise<Record<Mode, ModeResult>> {
  const shared = await measureMode(agent, images, "shared", opts);
  const plain = await measureMode(agent, images, "plain", opts);
  return { shared, plain };
}

const mountDir = (mode: Mode, i: number) => `${MNT}-${mode}-${i}`;

async function measureMode(agent: AgentClient, images: MeasuredImage[], mode: Mode, opts: SavingOptions): Promise<ModeResult> {
  const data = mode === "shared" ? `inode_share,domain_id=${opts.domain}` : "";
  const mounted: string[] = [];
  try {
    for (const [i, img] of images.entries()) {
      await agent.exec(["mkdir", "-p", mountDir(mode, i)], { timeoutMs: 10_000 });
      await agent.mount({ source: img.device, target: mountDir(mode, i), fstype: "erofs", flags: ["ro"], data });
      mounted.push(mountDir(mode, i));
    }
    await dropCaches(agent);
    const base = (await cacheSnapshot(agent)).cachedBytes;
    let last = base;
    const growth: number[] = [];
    const wrong: WrongFile[] = [];
    let read = 0;
    let ms = 0;
    for (const [i, img] of images.entries()) {
      const r = await readSource(agent, img, mountDir(mode, i), opts);
      const now = (await cacheSnapshot(agent)).cachedBytes;
      growth.push(now - last);
      last = now;
      read += r.read;
      ms += r.ms;
      wrong.push(...r.wrong);
    }
    const frames = await checkFrames(agent, images, mode, opts.frameChecks);
    return { growth, total: last - base, read, wrong, frames, ms };
  } finally {
    // A lazy unmount would leave the superblock alive, and the next mode's mount of the same device would reuse it.
    for (const d of mounted.reverse()) await agent.umount(d).catch(() => agent.umount(d, ["detach"]).catch(() => {}));
    if (mounted.length) await agent.exec(["rmdir", ...mounted], { timeoutMs: 10_000 }).catch(() => {});
  }
}

/**
 * Paths per guest request: at most this many, and at most BATCH_BYTES of JSON, so a request stays far
 * below the agent's 1 MiB line limit whatever the names (4096-byte paths, escaped control characters).
 */
const BATCH_FILES = 256;
const BATCH_BYTES = 256 * 1024;

/** `paths` cut into request-sized batches, in order. */
export function pathBatches(paths: string[], maxFiles = BATCH_FILES, maxBytes = BATCH_BYTES): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const p of paths) {
    const b = Buffer.byteLength(JSON.stringify(p)) + 1;
    if (cur.length && (cur.length >= maxFiles || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A path for a message: quoted as JSON (a name may hold newlines), long ones cut to their last 160 characters. */
export function showPath(p: string): string {
  const q = JSON.stringify(p);
  return q.length <= 162 ? q : `"…${q.slice(-160)}`;
}

/** What one file read as: its XXH64, or the call that failed with its errno name. */
export function readAs(r: HashedFile): string {
  return "xxh64" in r ? r.xxh64 : `unreadable: ${r.error}: ${r.errname}`;
}

/**
 * Read one source's files (read(2) in the agent, or mmap + touch first for mmap-all) and check every
 * file's bytes. The agent answers file by file in request order, so a result is matched to its file by
 * position, never by parsing a name back out of a tool's text output.
 */
async function readSource(agent: AgentClient, img: MeasuredImage, dir: string, opts: SavingOptions): Promise<{ read: number; wrong: WrongFile[]; ms: number }> {
  const timeoutMs = opts.readTimeoutMs ?? 600_000;
  const t0 = Date.now();
  const paths = img.files.map((f) => `${dir}${f.path}`);
  if (opts.access === "mmap-all") {
    for (const batch of pathBatches(paths)) await agent.pageFrames(batch, { timeoutMs });
  }
  const results: HashedFile[] = [];
  for (const batch of pathBatches(paths)) results.push(...(await agent.hashFiles(batch, { timeoutMs })).files);
  const ms = Date.now() - t0;
  const wrong = img.files.flatMap((f, i) => {
    const seen = readAs(results[i]);
    return seen === f.xxh64 ? [] : [{ label: img.label, path: f.path, expected: f.xxh64!, seen }];
  });
  return { read: img.files.length, wrong, ms };
}

/** Page frames of each duplicate and its first copy, both mapped through this mode's mounts. */
async function checkFrames(agent: AgentClient, images: MeasuredImage[], mode: Mode, dups: Duplicate[]): Promise<FrameCheck[]> {
  const index = new Map(images.map((img, i) => [img.label, i]));
  const out: FrameCheck[] = [];
  for (const d of dups) {
    const a = `${mountDir(mode, index.get(d.firstLabel)!)}${d.firstPath}`;
    const b = `${mountDir(mode, index.get(d.label)!)}${d.path}`;
    const [fa, fb] = await agent.pageFrames([a, b], { timeoutMs: 120_000 });
    out.push({ duplicate: d, pages: fa.pages, equal: countEqualFrames(fa.pfns, fb.pfns) });
  }
  return out;
}
