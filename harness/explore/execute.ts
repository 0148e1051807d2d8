// Owns: running one exploration program in a guest through a case context, step by step: each
// operation is performed, the model's prediction for it is compared with what the kernel did, and
// the result goes on record: a disagreement with a specified prediction is a failed check, an
// observation no documented rule decides is a finding (a difference, never a failure). The model is
// then told what really happened, so later predictions start from the kernel's real state.
// Check names are "<signature> @ #<step> <operation>": the part before " @ " names the kind of
// disagreement independently of where it happened, which is what a finding is deduplicated and
// shrunk by (signature.ts).
import type { CaseContext, Mounted } from "../runner/context.ts";
import type { Op, Program, FileRef } from "./program.ts";
import { backingOn, describeOp, mountData, pick } from "./program.ts";
import { SharingModel, type ModelFile, type ModelMount, type Placed, type Prediction, type Tri } from "./model.ts";
import { modelImage, sourceSlice, type ContentIndex } from "./sources.ts";
import { dropCaches } from "../measure/memory.ts";
import { ChargeModel } from "./charge-model.ts";
import { performCgroup, type CgHost } from "./execute-cgroup.ts";
import { mountinfoOptions, predictShown, seenShown, type OptionState } from "./options-shown.ts";
import { xxh64Hex } from "../util/hash.ts";

const HOLD_MAX_MS = 120_000;

interface Held {
  pid: number;
  mount: ModelMount;
  file: ModelFile;
}

/** Runs one program on the case context's guest; checks and findings go to `t`. */
export class ProgramExecutor implements CgHost {
  private readonly model: SharingModel;
  readonly charges = new ChargeModel();
  private readonly mounted = new Map<number, Mounted>();
  readonly holds: Held[] = [];
  private readonly pids: number[] = [];
  private step = 0;

  constructor(
    readonly t: CaseContext,
    private readonly program: Program,
    private readonly contents: ContentIndex,
    private readonly fileBacked: boolean,
  ) {
    this.model = new SharingModel(program.images.map((n) => modelImage(t.image(n).manifest)), { dax: t.kernel.config.CONFIG_FS_DAX === "y" });
    this.model.listener = this.charges.listener;
  }

  async run(): Promise<void> {
    try {
      for (const op of this.program.ops) {
        this.step++;
        await this.perform(op);
      }
    } finally {
      for (const pid of this.pids) await this.t.agent.procKill(pid).catch(() => {});
    }
    this.t.measure("operations", this.program.ops.length, "count", { kind: "exact" });
  }

  label(op: Op): string {
    return `#${this.step} ${describeOp(op)}`;
  }

  /** Compare a specified prediction with what was seen; an unspecified one is recorded as a finding. */
  observe<T>(op: Op, what: string, p: Prediction<T>, seen: T | string, same = (e: T, s: T | string) => e === s): boolean {
    if (p.expect === "unspecified") {
      this.t.finding(`unspecified (${p.rule}): ${what} -> ${String(seen)} @ ${this.label(op)}`);
      return true;
    }
    const ok = same(p.expect as T, seen);
    this.t.expect(`${what}: expected ${String(p.expect)}, seen ${ok ? String(p.expect) : String(seen)} (${p.rule}) @ ${this.label(op)}`, ok, { expected: p.expect, seen });
    return ok;
  }

  private async perform(op: Op): Promise<void> {
    switch (op.op) {
      case "mount":
        return this.mount(op);
      case "remount":
        return this.remount(op);
      case "read":
        return this.read(op);
      case "frames":
        return this.frames(op);
      case "copy":
        return this.copy(op);
      case "odirect": {
        const r = this.resolve(op.at);
        if (r) this.observe(op, "open O_DIRECT", this.model.predictODirect(r), await this.t.errno(this.t.agent.openProbe(r.path, ["O_RDONLY", "O_DIRECT"])));
        return;
      }
      case "fadvise":
        return this.fadvise(op);
      case "drop_caches":
        await dropCaches(this.t.agent);
        this.model.commitDropCaches();
        return this.charges.dropCaches(this.model.liveCaches());
      case "hold": {
        const r = this.resolve(op.at);
        if (!r) return;
        const pid = await this.t.agent.mapHold(r.path, { maxMs: HOLD_MAX_MS });
        this.pids.push(pid);
        this.holds.push({ pid, mount: r.mount, file: r.file });
        this.model.commitHold(r.mount, r.file);
        this.charges.read(this.model.cacheOwner(r), "root", true); // the helper reads a byte of every page
        return;
      }
      case "release": {
        const h = pick(this.holds, op.hold);
        if (!h) return;
        this.holds.splice(this.holds.indexOf(h), 1);
        await this.t.agent.procKill(h.pid);
        this.model.commitRelease(h.mount, h.file);
        this.charges.commitExit(h.pid);
        return;
      }
      case "umount":
        return this.umount(op);
      case "reader": {
        const r = this.resolve(op.at);
        if (!r) return;
        const loop = `while :; do dd if='${r.path}' of=/dev/null bs=65536 2>/dev/null; done`;
        this.pids.push(await this.t.agent.spawn(["/bin/sh", "-c", loop], { maxMs: op.ms }));
        this.model.commitReader(r.mount);
        this.charges.reader();
        return;
      }
      case "cgcreate":
      case "cglimit":
      case "cgread":
      case "cgmove":
      case "cgrmdir":
        return performCgroup(this, op);
    }
  }

  resolveFile(ref: FileRef): { mount: ModelMount; path: string; file: ModelFile } | undefined {
    return this.resolve(ref);
  }

  cacheOwner(r: { mount: ModelMount; file: ModelFile }): string | undefined {
    return this.model.cacheOwner(r);
  }

  private resolve(ref: FileRef): { mount: ModelMount; path: string; file: ModelFile } | undefined {
    const r = this.model.resolve(ref);
    if (!r) return undefined;
    this.model.lookup(r); // every operation on a file opens it by path: the kernel looks it up now
    return { mount: r.mount, file: r.file, path: this.mounted.get(r.mount.id)!.path(r.file.path) };
  }

  private async mount(op: Extract<Op, { op: "mount" }>): Promise<void> {
    const backing = backingOn(op.backing, this.fileBacked);
    const image = pick(this.program.images, op.image)!;
    const p = this.model.predictMount(op.image, backing, op.opts);
    let m: Mounted | undefined;
    const seen = await this.t.errno(this.t.mount(image, { backing, options: mountData(op.opts), api: op.api }).then((x) => (m = x)));
    const what = `mount ${backing} -o ${JSON.stringify(mountData(op.opts))}`;
    this.observe(op, what, p.result, seen, (e, s) => (e === "refused" ? s !== "ok" : e === s));
    if (!m) return;
    const mm = this.model.commitMount(op.image, backing, op.opts, p.sharing.expect as Tri);
    this.mounted.set(mm.id, m);
    await this.shownOptions(op, m.dir, mm.sb);
  }

  /** The options /proc/self/mountinfo lists for the mount at `dir`, against what the model predicts for its superblock. */
  private async shownOptions(op: Op, dir: string, state: OptionState): Promise<void> {
    const opts = mountinfoOptions((await this.t.agent.readFile("/proc/self/mountinfo", { maxBytes: 1 << 20 })).data.toString("utf8"), dir);
    if (!opts) return void this.t.finding(`${dir} is not in /proc/self/mountinfo @ ${this.label(op)}`);
    const p = predictShown(state);
    const seen = seenShown(opts, state.domain);
    this.observe(op, "mountinfo lists inode_share", p.inodeShare, seen.inodeShare);
    this.observe(op, "mountinfo hides domain_id", p.domain, seen.domain);
    this.observe(op, "mountinfo dax option", p.dax, seen.dax);
  }

  private async remount(op: Extract<Op, { op: "remount" }>): Promise<void> {
    const p = this.model.predictRemount(op.slot, op.data);
    if (!p) return;
    const m = this.mounted.get(pick(this.model.mounts, op.slot)!.id)!;
    const seen = op.api === "fsmount" ? await this.fsRemount(m.dir, op.data) : await this.t.errno(this.t.agent.mount({ target: m.dir, flags: ["remount", "ro"], data: op.data }));
    this.observe(op, `remount -o ${JSON.stringify(op.data)}`, p.result, seen);
    if (seen === "ok") this.model.commitRemount(op.slot, p.sharing.expect as Tri, op.data);
    await this.shownOptions(op, m.dir, this.model.optionState(op.slot)!);
  }

  private async umount(op: Extract<Op, { op: "umount" }>): Promise<void> {
    const p = this.model.predictUmount(op.slot, op.lazy);
    if (!p) return;
    const mm = pick(this.model.mounts, op.slot)!;
    const seen = await this.t.errno(this.t.umount(this.mounted.get(mm.id)!, op.lazy ? ["detach"] : []));
    this.observe(op, op.lazy ? "lazy umount" : "umount", p, seen);
    if (seen === "ok") {
      this.model.commitUmount(op.slot);
      this.mounted.delete(mm.id);
    }
  }

  /** fspick + one fsconfig per option + FSCONFIG_CMD_RECONFIGURE: "ok" or the errno name. */
  private async fsRemount(dir: string, data: string): Promise<string> {
    const params = data.split(",").filter(Boolean).map((o) => (o.includes("=") ? { key: o.slice(0, o.indexOf("=")), value: o.slice(o.indexOf("=") + 1) } : { key: o }));
    return (await this.t.agent.fsMount({ pick: dir, params })).result;
  }

  /**
   * Compare bytes read from a file with the bytes each file that may serve it holds (its own first):
   * "ok" matches its own, another file of its key is accepted and recorded, anything else disagrees.
   */
  judgeBytes(op: Op, what: string, r: { mount: ModelMount; file: ModelFile }, same: (p: Placed) => boolean | undefined, seenError?: string): void {
    const p = this.model.predictRead(r);
    const expect = p.files.length > 1 ? "bytes of a file of its key" : "source bytes";
    if (seenError) return void this.observe(op, what, { expect, rule: p.rule }, seenError);
    const verdicts = p.files.map(same);
    if (verdicts[0] === undefined) return void this.t.finding(`no source description for ${r.mount.sb.image.name}:${r.file.path}: ${what} not checked @ ${this.label(op)}`);
    const hit = verdicts.findIndex((v) => v === true);
    if (hit > 0) this.t.finding(`${what} returned the bytes of ${p.files[hit].image.name}:${p.files[hit].file.path} (same key) @ ${this.label(op)}`);
    this.observe(op, what, { expect, rule: p.rule }, hit >= 0 ? expect : "other bytes");
  }

  /** The source bytes [offset, offset+length) of a placed file, or undefined when no spec describes it. */
  private slice(p: Placed, offset: number, length: number): Buffer | undefined {
    const c = this.contents.get(p.image.name)?.get(p.file.path);
    return c ? sourceSlice(c, offset, length) : undefined;
  }

  private async read(op: Extract<Op, { op: "read" }>): Promise<void> {
    const r = this.resolve(op.at);
    if (!r) return;
    if (op.method === "read") {
      let xxh64 = "";
      const res = await this.t.errno(this.t.agent.readHash(r.path).then((h) => (xxh64 = h.xxh64)));
      this.charges.read(this.model.cacheOwner(r), "root", true);
      return this.judgeBytes(op, "read(2) of the whole file", r, (p) => p.file.xxh64 === xxh64, res === "ok" ? undefined : res);
    }
    const iov = op.method === "readv" || op.method === "preadv" ? [Math.ceil(op.length / 2), Math.floor(op.length / 2)] : [op.length];
    let got: Buffer = Buffer.alloc(0);
    const res = await this.t.errno(this.t.agent.readAt(r.path, op.method, op.offset, iov).then((x) => (got = x.data)));
    this.charges.read(this.model.cacheOwner(r), "root", false);
    this.judgeBytes(op, `${op.method} of a range`, r, (p) => this.slice(p, op.offset, op.length)?.equals(got), res === "ok" ? undefined : res);
  }

  private async copy(op: Extract<Op, { op: "copy" }>): Promise<void> {
    const r = this.resolve(op.at);
    if (!r) return;
    let xxh64 = "";
    const res = await this.t.errno(this.t.agent.copyHash(r.path, op.method, { offset: op.offset, length: op.length }).then((x) => (xxh64 = x.xxh64)));
    this.charges.read(this.model.cacheOwner(r), "root", false);
    this.judgeBytes(op, `${op.method} of a range`, r, (p) => {
      const want = this.slice(p, op.offset, op.length);
      return want && xxh64Hex(want) === xxh64;
    }, res === "ok" ? undefined : res);
  }

  /** Read the whole file (its bytes checked), fadvise(DONTNEED) it, count its resident pages. */
  private async fadvise(op: Extract<Op, { op: "fadvise" }>): Promise<void> {
    const r = this.resolve(op.at);
    if (!r) return;
    let xxh64 = "";
    const res = await this.t.errno(this.t.agent.readHash(r.path).then((h) => (xxh64 = h.xxh64)));
    this.judgeBytes(op, "read(2) of the whole file", r, (p) => p.file.xxh64 === xxh64, res === "ok" ? undefined : res);
    this.charges.read(this.model.cacheOwner(r), "root", true);
    if (!this.observe(op, "fadvise DONTNEED", { expect: "ok", rule: "fadvise on an open file succeeds" }, await this.t.errno(this.t.agent.fadvise(r.path, "dontneed")))) return;
    const m = await this.t.agent.mincore(r.path);
    this.charges.dontneed(this.model.cacheOwner(r), m.resident);
    // the count goes to the findings, not the check's name: a finding's signature must not depend on the file's size
    if (m.resident > 0) this.t.finding(`${m.resident} of ${m.pages} pages resident after DONTNEED @ ${this.label(op)}`);
    this.observe(op, "pages resident after DONTNEED", this.model.predictResidentAfterDontneed(), m.resident === 0 ? 0 : "some");
  }

  private async frames(op: Extract<Op, { op: "frames" }>): Promise<void> {
    const pair = this.model.resolvePair(op.a, op.b, op.like);
    if (!pair) return;
    for (const r of pair) this.model.lookup(r); // page_frames opens a, then b
    const p = this.model.predictFrames(op.a, op.b, op.like);
    if (!p) return;
    const [a, b] = pair.map((r) => ({ ...r, path: this.mounted.get(r.mount.id)!.path(r.file.path) }));
    const [fa, fb] = await this.t.agent.pageFrames([a.path, b.path]);
    for (const r of pair) this.charges.read(this.model.cacheOwner(r), "root", false);
    const n = Math.min(fa.pfns.length, fb.pfns.length);
    let equal = 0;
    let present = 0;
    for (let i = 0; i < n; i++) {
      if (fa.pfns[i] === null || fb.pfns[i] === null) continue;
      present++;
      if (fa.pfns[i] === fb.pfns[i]) equal++;
    }
    const seen = present === 0 ? "no pages present" : equal === present ? "yes" : equal === 0 ? "no" : "partly";
    if (seen === "partly") this.t.finding(`${equal} of ${present} page frames shared @ ${this.label(op)}`);
    this.observe(op, "page frames shared", p, seen);
  }
}

