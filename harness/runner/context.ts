// What a case sees while it runs: the guest agent, its images, mount helpers that track what they
// mounted (so the runner can reset between cases), and the recording side: checks (expect continues,
// assert stops, both keep expected and seen), measurements with units, findings, skip.
import type { AgentClient, ExecResult } from "../guest/agent-client.ts";
import { AgentError } from "../guest/agent-client.ts";
import type { Manifest, FileRecord } from "../images/manifest.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { measurementKind, type Check, type Measurement } from "../report/model.ts";
import type { MountFlag } from "../guest/protocol.ts";

/** Thrown by assert*: stops the case, which fails. */
export class AssertionStop extends Error {}
/** Thrown by skip(): the case is skipped with the reason. */
export class CaseSkip extends Error {}

export interface ImageHandle {
  name: string;
  manifest: Manifest;
  /** Guest block device, /dev/disk/pcshare/<name>. */
  device: string;
  /** Guest block devices of a multi-device image's blobs (mkfs --blobdev), in mkfs order; else empty. */
  blobDevices?: string[];
  /** Host path of the built image, for host-side checks (fsck.erofs); read it, never write it. */
  imagePath?: string;
}

export interface MountOptions {
  /** Share page cache in this domain (`inode_share,domain_id=<domain>`); false/absent: plain mount. */
  domain?: string | false;
  /**
   * "bdev": the virtio disk; "file": a copy of the image on ramfs, mounted file-backed by raw mount(2);
   * "loop": that copy through a loop device set up for this mount (detached at its unmount).
   */
  backing?: "bdev" | "file" | "loop";
  /** Extra mount data appended after the share options (e.g. "cache_strategy=disabled"). */
  extra?: string;
  /** Exact data string, overriding domain/extra and the blob devices' `device=` (for option-parsing cases). */
  data?: string;
  /** Exact option string instead of domain/extra, with the blob devices' `device=` still appended. */
  options?: string;
  /** "fsmount": the new mount API (fsopen, one fsconfig per option, fsmount, move_mount) instead of mount(2). */
  api?: "mount" | "fsmount";
  at?: string;
  flags?: MountFlag[];
}

export interface Mounted {
  image: ImageHandle;
  dir: string;
  source: string;
  data: string;
  /** Guest path of a file of the image, e.g. m.path("/data/big.bin"). */
  path(p: string): string;
}

const FILE_BACKING_DIR = "/run/pcshare-backing";

export class CaseContext {
  readonly checks: Check[] = [];
  readonly measurements: Measurement[] = [];
  readonly findings: string[] = [];
  private readonly mounts: string[] = [];
  private readonly cgroups: string[] = [];
  /** Loop devices set up for mounts (backing "loop"), by mount point: detached at unmount and at reset. */
  private readonly loops = new Map<string, string>();
  private mountSeq = 0;

  constructor(
    readonly agent: AgentClient,
    readonly kernel: Kernel,
    private readonly images: Map<string, ImageHandle>,
    readonly caseId: string,
    /** The case's variants chosen for this run (runner/variants.ts); empty for a case without variants. */
    readonly variants: readonly string[] = [],
  ) {}

  // ---- recording ----

  /** Record a check and continue (kselftest EXPECT_*). Returns `ok` so callers can branch. */
  expect(name: string, ok: boolean, detail: { expected?: unknown; seen?: unknown } = {}): boolean {
    this.checks.push({ name, ok, expected: show(detail.expected), seen: show(detail.seen) });
    return ok;
  }

  expectEqual<T>(name: string, seen: T, expected: T): boolean {
    return this.expect(name, JSON.stringify(seen) === JSON.stringify(expected), { expected, seen });
  }

  /** Record a check and stop the case when it does not hold (kselftest ASSERT_*). */
  assert(name: string, ok: boolean, detail: { expected?: unknown; seen?: unknown } = {}): void {
    if (!this.expect(name, ok, detail)) throw new AssertionStop(`${name}: expected ${show(detail.expected)}, seen ${show(detail.seen)}`);
  }

  assertEqual<T>(name: string, seen: T, expected: T): void {
    this.assert(name, JSON.stringify(seen) === JSON.stringify(expected), { expected, seen });
  }

  /** Record a figure; `kind` says whether it is exact or noisy (timings in ms/s default to noisy). */
  measure(name: string, value: number, unit: string, extra: Pick<Measurement, "series" | "x" | "xLabel" | "kind" | "better"> = {}): void {
    const { series, x, xLabel, better } = extra;
    const kind = measurementKind({ kind: extra.kind, unit });
    const m: Measurement = { name, value, unit, series, x, xLabel, kind, better };
    for (const k of Object.keys(m) as (keyof Measurement)[]) if (m[k] === undefined) delete m[k];
    this.measurements.push(m);
  }

  /** A documented behaviour difference observed on this kernel (reported, not a failure). */
  finding(text: string): void {
    this.findings.push(text);
  }

  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  // ---- images and mounts ----

  image(name: string): ImageHandle {
    const img = this.images.get(name);
    if (!img) throw new Error(`case ${this.caseId} uses image "${name}" but did not declare it in images:`);
    return img;
  }

  /** The manifest record of a file in an image (throws when the spec has no such file). */
  file(imageName: string, p: string): FileRecord {
    const f = this.image(imageName).manifest.files.find((r) => r.path === p);
    if (!f) throw new Error(`image ${imageName} has no file ${p}`);
    return f;
  }

  /** Data string for a mount: share options, then extras. */
  static mountData(opts: MountOptions): string {
    if (opts.data !== undefined) return opts.data;
    const parts = opts.domain ? ["inode_share", `domain_id=${opts.domain}`] : [];
    if (opts.extra) parts.push(opts.extra);
    return parts.join(",");
  }

  /** Mount an image read-only; errors from mount(2) propagate as AgentError (errname e.g. EINVAL). */
  async mount(imageName: string, opts: MountOptions = {}): Promise<Mounted> {
    const image = this.image(imageName);
    const dir = opts.at ?? `/mnt/${imageName}-${++this.mountSeq}`;
    const file = opts.backing === "file";
    const loop = opts.backing === "loop" ? await this.loopDevice(await this.fileCopy(image.device, image.name)) : undefined;
    const source = loop ?? (file ? await this.fileCopy(image.device, image.name) : image.device);
    // A multi-device image needs its blob devices (`device=` in mkfs order); file-backed mounts open them as files.
    const blobs: string[] = [];
    for (const [i, dev] of (image.blobDevices ?? []).entries()) blobs.push(file ? await this.fileCopy(dev, `${image.name}.${i}`) : dev);
    const data = opts.data ?? [opts.options ?? CaseContext.mountData(opts), ...blobs.map((b) => `device=${b}`)].filter(Boolean).join(",");
    try {
      if (opts.api === "fsmount") await this.fsMount(source, dir, data);
      else await this.agent.mount({ source, target: dir, fstype: "erofs", flags: opts.flags ?? ["ro"], data });
    } catch (err) {
      if (loop) await this.detachLoop(loop);
      throw err;
    }
    if (loop) this.loops.set(dir, loop);
    this.mounts.push(dir);
    return { image, dir, source, data, path: (p: string) => `${dir}${p.startsWith("/") ? p : `/${p}`}` };
  }

  /** mount(2)'s data string through the new mount API; a refusal throws like mount(2)'s (errname, the fd's log). */
  private async fsMount(source: string, target: string, data: string): Promise<void> {
    const params = [{ key: "source", value: source }, { key: "ro" }, ...data.split(",").filter(Boolean).map((o) => {
      const eq = o.indexOf("=");
      return eq < 0 ? { key: o } : { key: o.slice(0, eq), value: o.slice(eq + 1) };
    })];
    const r = await this.agent.fsMount({ fstype: "erofs", params, target });
    if (r.result !== "ok") throw new AgentError("fs_mount", "remote", `fs_mount ${source}: ${r.result} at ${r.failed_at} ${r.log.join("; ")}`, r.errno ?? undefined, r.result);
  }

  /** Try a mount expected to fail; returns the errno name ("EINVAL") or "ok" when it mounted. */
  async tryMount(imageName: string, opts: MountOptions = {}): Promise<string> {
    return this.errno(this.mount(imageName, opts));
  }

  /**
   * Await a guest operation the kernel may refuse: "ok" when it succeeds, else the errno's name
   * ("EINVAL"; "errno 117" when the agent could not name it). Anything else (the agent gone, bad
   * arguments, a timeout) propagates: that is not the kernel's answer.
   */
  async errno(op: Promise<unknown>): Promise<string> {
    try {
      await op;
      return "ok";
    } catch (err) {
      if (err instanceof AgentError && err.code === "remote" && (err.errname || err.errno !== undefined)) return err.errname ?? `errno ${err.errno}`;
      throw err;
    }
  }

  async umount(m: Mounted | string, flags: ("detach" | "force")[] = []): Promise<void> {
    const dir = typeof m === "string" ? m : m.dir;
    await this.agent.umount(dir, flags);
    const i = this.mounts.lastIndexOf(dir);
    if (i >= 0) this.mounts.splice(i, 1);
    const loop = this.loops.get(dir);
    if (loop) {
      this.loops.delete(dir);
      await this.detachLoop(loop);
    }
  }

  /** A free loop device bound read-only to `file` (busybox losetup: -f finds one through /dev/loop-control). */
  private async loopDevice(file: string): Promise<string> {
    const r = await this.sh(`d=$(losetup -f) && losetup -r "$d" ${file} && echo "$d"`);
    const dev = r.stdout.trim();
    if (!/^\/dev\/loop\d+$/.test(dev)) throw new Error(`losetup gave no loop device for ${file}: ${JSON.stringify(r.stdout + r.stderr)}`);
    return dev;
  }

  /** Detach a loop device; one still in use (a lazy unmount's last user) detaches when that user goes. */
  private async detachLoop(dev: string): Promise<void> {
    await this.sh(`losetup -d ${dev}`, { allowFail: true });
  }

  private async fileCopy(device: string, name: string): Promise<string> {
    const dest = `${FILE_BACKING_DIR}/${name}.erofs`;
    await this.sh(
      `mkdir -p ${FILE_BACKING_DIR}; grep -q ' ${FILE_BACKING_DIR} ramfs' /proc/mounts || mount -t ramfs ramfs ${FILE_BACKING_DIR}; ` +
        `[ -f ${dest} ] || dd if=${device} of=${dest} bs=1M 2>/dev/null`,
    );
    return dest;
  }

  // ---- commands ----

  /** Run a shell script in the guest; a non-zero exit stops the case unless allowFail. */
  async sh(script: string, opts: { timeoutMs?: number; allowFail?: boolean } = {}): Promise<ExecResult> {
    const r = await this.agent.exec(["sh", "-c", script], { timeoutMs: opts.timeoutMs ?? 30_000 });
    if (!opts.allowFail && (r.exitCode !== 0 || r.timedOut)) {
      throw new Error(`guest command failed (${r.timedOut ? "timed out" : `exit ${r.exitCode}`}): ${script}\n${r.stderr.trim()}`);
    }
    return r;
  }

  /** Create a cgroup v2 group with the memory controller enabled; removed at reset. */
  async cgroup(name: string, settings: Record<string, string> = {}): Promise<string> {
    await this.sh(`echo +memory > /sys/fs/cgroup/cgroup.subtree_control; mkdir -p /sys/fs/cgroup/${name}`);
    for (const [k, v] of Object.entries(settings)) await this.agent.writeFile(`/sys/fs/cgroup/${name}/${k}`, v);
    this.cgroups.push(name);
    return name;
  }

  // ---- reset (runner) ----

  /** Undo what the case set up: unmount in reverse (lazily if busy), remove cgroups, drop caches. */
  async reset(): Promise<void> {
    for (const dir of [...this.mounts].reverse()) {
      await this.agent.umount(dir).catch(() => this.agent.umount(dir, ["detach"]).catch(() => {}));
    }
    this.mounts.length = 0;
    for (const loop of this.loops.values()) await this.detachLoop(loop);
    this.loops.clear();
    for (const cg of this.cgroups.reverse()) await this.sh(`rmdir /sys/fs/cgroup/${cg}`, { allowFail: true });
    this.cgroups.length = 0;
    await this.sh(`umount ${FILE_BACKING_DIR} 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches`, { allowFail: true });
  }
}

function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}
