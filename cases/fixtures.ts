// Steps and data the cases share: the standard image pair, the file two images have in common,
// probing two files for sharing (with integrity checks and figures recorded), reading every file of a
// mount against the manifest, reading a file that may fail (bytes or errno), counting kernel messages,
// the two orders of a two-sided check.
import type { CaseContext, Mounted } from "../harness/runner/context.ts";
import type { FileRecord } from "../harness/images/manifest.ts";
import { probeSharing, type SharingProbe, type SharingVerdict } from "../harness/measure/sharing.ts";

/**
 * The standard pair (images/basic.yaml): share-a holds /data/big.bin (8 MiB of random bytes, fingerprinted);
 * share-b holds the same bytes at /srv/mirror/copy-of-big.bin.
 */
export const PAIR = { a: "share-a", b: "share-b", fileA: "/data/big.bin", fileB: "/srv/mirror/copy-of-big.bin" } as const;

/**
 * The first regular file (largest first) with the same content in both images: its path in each, size,
 * XXH64 (what the agent's reads report) and sha256 (what busybox sha256sum in the guest prints).
 */
export function commonFile(t: CaseContext, a: string, b: string): { pathA: string; pathB: string; xxh64: string; sha256: string; size: number } {
  const inB = new Map(t.image(b).manifest.files.filter((f) => f.type === "file" && f.sha256 && f.size > 0).map((f) => [f.sha256!, f]));
  const candidates = t
    .image(a)
    .manifest.files.filter((f) => f.type === "file" && f.sha256 && f.size > 0 && inB.has(f.sha256) && !f.linkOf)
    .sort((x, y) => y.size - x.size);
  if (!candidates.length) throw new Error(`images ${a} and ${b} have no file in common`);
  const f = candidates[0];
  return { pathA: f.path, pathB: inB.get(f.sha256!)!.path, xxh64: f.xxh64!, sha256: f.sha256!, size: f.size };
}

/**
 * One of the two orders of a check over two files or two mounts: side `first` is mounted, read (and so
 * instantiated), written, evicted or unmounted first. The A-first order's checks and figures keep the
 * names they had when the case ran one order (history, comparisons and known-bugs signatures find
 * them); the B-first order's carry `check` before each check name and `figure` after each figure name.
 */
export interface Order {
  first: "A" | "B";
  second: "A" | "B";
  /** prefix of this order's check names: "" (A first) or "B first: " */
  check: string;
  /** suffix of this order's measurement names: "" (A first) or "_b_first" */
  figure: string;
}

/** Both orders, A first then B first; a case loops over them, each order from a fresh start (drop_caches, fresh mounts or cgroups). */
export const ORDERS: readonly Order[] = [
  { first: "A", second: "B", check: "", figure: "" },
  { first: "B", second: "A", check: "B first: ", figure: "_b_first" },
];

/** `[first, second]` of the two sides in order `o` (`a` is side A's, `b` side B's). */
export function inOrder<T>(o: Order, a: T, b: T): [T, T] {
  return o.first === "A" ? [a, b] : [b, a];
}

export interface FileRef {
  /** guest path */
  path: string;
  /** the XXH64 this file must read as (its own source content) */
  xxh64: string;
}

/**
 * Probe sharing between `a` and `b` (read A first, then B; frames, residency, Cached), record the
 * figures (prefixed with `label`), check each file reads its own bytes and the verdict is `expected`.
 */
export async function expectPair(t: CaseContext, a: FileRef, b: FileRef, expected: SharingVerdict, label = ""): Promise<SharingProbe> {
  const probe = await probeSharing(t.agent, a.path, b.path, label);
  for (const m of probe.measurements) t.measure(m.name, m.value, m.unit, { ...m, better: m.name.endsWith("equal_frames") ? (expected === "shared" ? "higher" : "lower") : m.better });
  const p = label ? `${label}: ` : "";
  t.expectEqual(`${p}${a.path} reads its own bytes`, probe.xxh64A, a.xxh64);
  t.expectEqual(`${p}${b.path} reads its own bytes`, probe.xxh64B, b.xxh64);
  t.expect(`${p}sharing verdict is ${expected}`, probe.verdict === expected, { expected, seen: probe.summary });
  return probe;
}

/**
 * expectPair in both read orders: `a` first, then `b` first. Each probe starts from drop_caches,
 * which also frees the unused inodes, so the side read first is also the one instantiated first.
 * The A-first probe keeps `label` (its checks and figures keep the names a one-order probe had); the
 * B-first one is labelled "<label>, B first" (or "B first").
 */
export async function expectPairBothOrders(t: CaseContext, a: FileRef, b: FileRef, expected: SharingVerdict, label = ""): Promise<[SharingProbe, SharingProbe]> {
  return [await expectPair(t, a, b, expected, label), await expectPair(t, b, a, expected, label ? `${label}, B first` : "B first")];
}

/** expectPairBothOrders on the common file of mounts `ma` and `mb` (both must read the source's bytes). */
export async function expectSharing(t: CaseContext, ma: Mounted, mb: Mounted, expected: SharingVerdict, label = ""): Promise<[SharingProbe, SharingProbe]> {
  const f = commonFile(t, ma.image.name, mb.image.name);
  return expectPairBothOrders(t, { path: ma.path(f.pathA), xxh64: f.xxh64 }, { path: mb.path(f.pathB), xxh64: f.xxh64 }, expected, label);
}

export interface SharedAndPlain {
  shared: Mounted;
  plain: Mounted;
  /** PAIR.fileA through the sharing mount, PAIR.fileB through the plain one: the same bytes */
  sharedPath: string;
  plainPath: string;
  /** XXH64 of the source bytes */
  xxh64: string;
  size: number;
}

/** The standard pair, share-a with sharing on (domain d1) and share-b plain: two images, two superblocks. */
export async function sharedAndPlain(t: CaseContext): Promise<SharedAndPlain> {
  const shared = await t.mount(PAIR.a, { domain: "d1" });
  const plain = await t.mount(PAIR.b);
  const f = t.file(PAIR.a, PAIR.fileA);
  return { shared, plain, sharedPath: shared.path(PAIR.fileA), plainPath: plain.path(PAIR.fileB), xxh64: f.xxh64!, size: f.size };
}

/**
 * read(2) every regular file under mount `m` in one guest command (busybox sha256sum) and check that
 * each of `files` (default: every regular file of the image) reads the source's sha256. Returns how
 * long the lookups and reads took in the guest (ms; /proc/uptime has 10 ms resolution).
 */
export async function expectFilesRead(t: CaseContext, m: Mounted, label: string, files?: FileRecord[]): Promise<{ ms: number }> {
  const want = files ?? m.image.manifest.files.filter((f) => f.type === "file" && f.sha256);
  const up = "$(cut -d' ' -f1 /proc/uptime)";
  const r = await t.sh(`cd ${m.dir} && s=${up} && find . -type f | xargs -r sha256sum; e=${up}; echo "uptime $s $e"`, { timeoutMs: 90_000, allowFail: true });
  const seen = new Map<string, string>();
  let ms = NaN;
  for (const line of r.stdout.split("\n")) {
    const sum = line.match(/^([0-9a-f]{64})\s+\.(\/.*)$/);
    if (sum) seen.set(sum[2], sum[1]);
    const up = line.match(/^uptime ([\d.]+) ([\d.]+)$/);
    if (up) ms = Math.round((Number(up[2]) - Number(up[1])) * 1000);
  }
  const ran = Number.isFinite(ms) && ms >= 0;
  t.assert(`${label}: the read of every file ran`, ran, { seen: ran ? `${ms} ms` : `${r.stdout.slice(-200)} ${r.stderr.slice(-200)}`.trim() });
  const wrong = want.filter((f) => seen.get(f.path) !== f.sha256).map((f) => f.path);
  t.expect(`${label}: every file read through the mount has the source's sha256`, wrong.length === 0, {
    expected: `${want.length} files, all equal`,
    seen: `${wrong.length} of ${want.length} wrong or unreadable${wrong.length ? ` (first: ${wrong[0]})` : ""}${r.stderr.trim() ? `; ${r.stderr.trim().split("\n")[0]}` : ""}`,
  });
  return { ms };
}

export type ReadOutcome = { kind: "bytes"; seen: string } | { kind: "errno"; seen: string };

/** read(2) the whole file: its XXH64, or the errno name when the kernel refuses (other agent errors propagate). */
export async function readOutcome(t: CaseContext, path: string): Promise<ReadOutcome> {
  let xxh64 = "";
  const e = await t.errno(t.agent.readHash(path).then((r) => (xxh64 = r.xxh64)));
  return e === "ok" ? { kind: "bytes", seen: xxh64 } : { kind: "errno", seen: e };
}

/** Number of kernel log lines containing `text` (reads the ring buffer with dmesg, leaving kmsg to the runner). */
export async function dmesgCount(t: CaseContext, text: string): Promise<number> {
  const r = await t.sh(`dmesg | grep -c -F -- ${JSON.stringify(text)}`, { allowFail: true });
  return Number(r.stdout.trim()) || 0;
}
