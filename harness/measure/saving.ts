// The page-cache saving of sharing, measured in a guest: every image mounted in one sharing domain,
// every chosen file read source by source with Cached (/proc/meminfo) taken after each source; then
// the same with plain mounts. Each file read is checked against its source's sha256, and a sample of
// files whose content an earlier file had is checked for identical page frames (/proc/self/pagemap):
// the frames say per file what Cached says in bulk.
import type { AgentClient } from "../guest/agent-client.ts";
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
  /** the files to read (paths inside the image, with their sha256) */
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

/** Files per sha256sum command (paths passed as arguments, so nothing but the agent stands between the list and the reader). */
const BATCH = 200;

/** Read one source's files (read(2) via sha256sum, or mmap + touch first for mmap-all) and check every file's bytes. */
async function readSource(agent: AgentClient, img: MeasuredImage, dir: string, opts: SavingOptions): Promise<{ read: number; wrong: WrongFile[]; ms: number }> {
  const timeoutMs = opts.readTimeoutMs ?? 600_000;
  const t0 = Date.now();
  if (opts.access === "mmap-all") {
    for (let i = 0; i < img.files.length; i += 256) {
      await agent.pageFrames(img.files.slice(i, i + 256).map((f) => `${dir}${f.path}`), { timeoutMs });
    }
  }
  const seen = new Map<string, string>();
  const errors: string[] = [];
  for (let i = 0; i < img.files.length; i += BATCH) {
    const r = await agent.exec(["sha256sum", "--", ...img.files.slice(i, i + BATCH).map((f) => `${dir}${f.path}`)], { timeoutMs });
    if (r.stdoutTruncated) throw new Error(`${img.label}: the guest's sha256sum output was cut at the agent's limit`);
    for (const line of r.stdout.split("\n")) {
      const m = line.match(/^([0-9a-f]{64}) {2}(.*)$/);
      if (m && m[2].startsWith(`${dir}/`)) seen.set(m[2].slice(dir.length), m[1]);
    }
    errors.push(...r.stderr.split("\n").filter(Boolean));
  }
  const ms = Date.now() - t0;
  const wrong = img.files
    .filter((f) => seen.get(f.path) !== f.sha256)
    .map((f) => ({ label: img.label, path: f.path, expected: f.sha256!, seen: seen.get(f.path) ?? `unreadable: ${errors.find((l) => l.includes(f.path)) ?? errors[0] ?? "no output"}` }));
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
