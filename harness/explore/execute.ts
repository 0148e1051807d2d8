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
import { describeOp, mountData, pick } from "./program.ts";
import { SharingModel, type ModelMount, type Prediction, type Tri } from "./model.ts";
import { modelImage, sourceSlice, type ContentIndex } from "./sources.ts";
import { dropCaches } from "../measure/memory.ts";

const HOLD_MAX_MS = 120_000;

interface Held {
  pid: number;
  mount: ModelMount;
}

/** Runs one program on the case context's guest; checks and findings go to `t`. */
export class ProgramExecutor {
  private readonly model: SharingModel;
  private readonly mounted = new Map<number, Mounted>();
  private readonly holds: Held[] = [];
  private readonly pids: number[] = [];
  private step = 0;

  constructor(
    private readonly t: CaseContext,
    private readonly program: Program,
    private readonly contents: ContentIndex,
    private readonly fileBacked: boolean,
  ) {
    this.model = new SharingModel(program.images.map((n) => modelImage(t.image(n).manifest)));
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

  private label(op: Op): string {
    return `#${this.step} ${describeOp(op)}`;
  }

  /** Compare a specified prediction with what was seen; an unspecified one is recorded as a finding. */
  private observe<T>(op: Op, what: string, p: Prediction<T>, seen: T | string, same = (e: T, s: T | string) => e === s): boolean {
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
      case "fadvise": {
        const r = this.resolve(op.at);
        if (r) this.observe(op, "fadvise DONTNEED", { expect: "ok", rule: "fadvise on an open file succeeds" }, await this.t.errno(this.t.agent.fadvise(r.path, "dontneed")));
        return;
      }
      case "drop_caches":
        return dropCaches(this.t.agent);
      case "hold": {
        const r = this.resolve(op.at);
        if (!r) return;
        const pid = await this.t.agent.mapHold(r.path, { maxMs: HOLD_MAX_MS });
        this.pids.push(pid);
        this.holds.push({ pid, mount: r.mount });
        this.model.commitHold(r.mount);
        return;
      }
      case "release": {
        const h = pick(this.holds, op.hold);
        if (!h) return;
        this.holds.splice(this.holds.indexOf(h), 1);
        await this.t.agent.procKill(h.pid);
        this.model.commitRelease(h.mount);
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
        return;
      }
    }
  }

  private resolve(ref: FileRef): { mount: ModelMount; path: string; file: { path: string; size: number; sha256: string } } | undefined {
    const r = this.model.resolve(ref);
    if (!r) return undefined;
    return { mount: r.mount, file: r.file, path: this.mounted.get(r.mount.id)!.path(r.file.path) };
  }

  private async mount(op: Extract<Op, { op: "mount" }>): Promise<void> {
    const backing = this.fileBacked ? op.backing : "bdev";
    const image = pick(this.program.images, op.image)!;
    const p = this.model.predictMount(op.image, backing, op.opts);
    let m: Mounted | undefined;
    const seen = await this.t.errno(this.t.mount(image, { backing, data: mountData(op.opts) }).then((x) => (m = x)));
    const what = `mount ${backing} -o ${JSON.stringify(mountData(op.opts))}`;
    this.observe(op, what, p.result, seen, (e, s) => (e === "refused" ? s !== "ok" : e === s));
    if (m) this.mounted.set(this.model.commitMount(op.image, backing, op.opts, p.sharing.expect as Tri).id, m);
  }

  private async remount(op: Extract<Op, { op: "remount" }>): Promise<void> {
    const p = this.model.predictRemount(op.slot, op.data);
    if (!p) return;
    const m = this.mounted.get(pick(this.model.mounts, op.slot)!.id)!;
    const seen = await this.t.errno(this.t.agent.mount({ target: m.dir, flags: ["remount", "ro"], data: op.data }));
    this.observe(op, `remount -o ${JSON.stringify(op.data)}`, p.result, seen);
    if (seen === "ok") this.model.commitRemount(op.slot, p.sharing.expect as Tri);
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

  private async read(op: Extract<Op, { op: "read" }>): Promise<void> {
    const r = this.resolve(op.at);
    if (!r) return;
    const rule = "a read returns the source's bytes, always";
    if (op.method === "read") {
      const got = await this.t.errno(this.t.agent.readHash(r.path).then((h) => (h.sha256 === r.file.sha256 ? "source bytes" : "other bytes")));
      this.observe(op, "read(2) of the whole file", { expect: "source bytes", rule }, got);
      return;
    }
    const content = this.contents.get(r.mount.sb.image.name)?.get(r.file.path);
    const iov = op.method === "readv" || op.method === "preadv" ? [Math.ceil(op.length / 2), Math.floor(op.length / 2)] : [op.length];
    let got = "";
    const res = await this.t.errno(this.t.agent.readAt(r.path, op.method, op.offset, iov).then((x) => {
      const want = content ? sourceSlice(content, op.offset, op.length) : undefined;
      got = !want ? "unknown source" : x.data.equals(want) ? "source bytes" : `other bytes (${x.bytes} B, ${countDiff(x.data, want)} differ)`;
    }));
    if (got === "unknown source") this.t.finding(`no source description for ${r.mount.sb.image.name}:${r.file.path}: ${op.method} not checked @ ${this.label(op)}`);
    else this.observe(op, `${op.method} of ${op.length} B at ${op.offset}`, { expect: "source bytes", rule }, res === "ok" ? got : res, (e, s) => e === s);
  }

  private async frames(op: Extract<Op, { op: "frames" }>): Promise<void> {
    const p = this.model.predictFrames(op.a, op.b);
    const a = this.resolve(op.a);
    const b = this.resolve(op.b);
    if (!p || !a || !b) return;
    const [fa, fb] = await this.t.agent.pageFrames([a.path, b.path]);
    const n = Math.min(fa.pfns.length, fb.pfns.length);
    let equal = 0;
    let present = 0;
    for (let i = 0; i < n; i++) {
      if (fa.pfns[i] === null || fb.pfns[i] === null) continue;
      present++;
      if (fa.pfns[i] === fb.pfns[i]) equal++;
    }
    const seen = present === 0 ? "no pages present" : equal === present ? "yes" : equal === 0 ? "no" : `partly (${equal} of ${present} pages)`;
    this.observe(op, "page frames shared", p, seen);
  }
}

function countDiff(a: Buffer, b: Buffer): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}
