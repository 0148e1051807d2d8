// Owns: replaying a seed's programs on the host, without a guest, to pick a seed whose programs reach
// a given kernel path. Programs are drawn exactly as `explore` draws them (fast-check, the same seed
// and run order); each is stepped through the model, every call taken to do what the model predicts
// (a refused mount is not attached, an unspecified result is taken as ok), while the replay follows
// what the model does not: each shared inode's list of erofs inodes (the kernel adds the inode looked
// up last at the head) and whether the shared inode's page cache is empty.
//
// What it looks for ("stale head"): a read through a shared inode that misses its page cache (nothing
// read there since the cache was dropped, allowing for readahead around earlier reads) while the
// inode at the head of its list was evicted. On a correct kernel eviction unlinks the inode; a kernel
// that keeps it linked (the list-entry-kept-on-evict mutant) makes readahead's erofs_real_inode()
// igrab the freed inode there: a use-after-free that KASAN reports at that read.
import fc from "fast-check";
import { programArb, type DrawnProgram } from "./generate.ts";
import { SharingModel, type ModelFile, type ModelImage, type ModelMount } from "./model.ts";
import { backingOn, describeOp, pick, type FileRef, type Op, type Program } from "./program.ts";

/** The first `count` programs `explore --seed <seed>` runs (P1 is index 0). */
export function drawPrograms(seed: number, count: number): DrawnProgram[] {
  const out: DrawnProgram[] = [];
  fc.check(fc.property(programArb, (p) => void out.push(p)), { seed, numRuns: count });
  return out;
}

export interface StaleHead {
  /** 1-based step of the read. */
  step: number;
  op: string;
  /** The evicted inode at the head of the list ("image:path"). */
  evicted: string;
}

type Entry = { id: string; freed: boolean; name: string };
/** Byte ranges read through a shared inode since its cache was last dropped. */
type Ranges = [number, number][];

/** Readahead and mmap read-around bring in at most this much beyond what was asked (ra_pages is 128 KiB by default). */
const READAHEAD_SLACK = 512 * 1024;
type Resolved = { mount: ModelMount; file: ModelFile };

/** The steps of a program whose read through a shared inode misses its page cache while an evicted inode heads its list. */
export function staleHeadReads(program: Program, images: ModelImage[], fileBacked = true): StaleHead[] {
  return new Replay(images, fileBacked).run(program);
}

class Replay {
  private readonly model: SharingModel;
  private readonly lists = new Map<string, Entry[]>();
  private readonly cached = new Map<string, Ranges>();
  private readonly holds: { mount: ModelMount; file: ModelFile }[] = [];
  private live = new Set<string>();
  private readonly hits: StaleHead[] = [];
  private step = 0;

  constructor(
    private readonly images: ModelImage[],
    private readonly fileBacked: boolean,
  ) {
    this.model = new SharingModel(images);
  }

  run(program: Program): StaleHead[] {
    for (const op of program.ops) {
      this.step++;
      this.perform(op);
      this.follow();
    }
    return this.hits;
  }

  /** New shared inodes go to the head of their key's list (a key seen for the first time has an empty cache); gone ones stay, marked freed. */
  private follow(): void {
    const now = new Map(this.model.sharedInodes().map((i) => [`${i.sb}\0${i.path}`, i]));
    for (const [id, i] of now) {
      if (this.live.has(id)) continue;
      if (!this.cached.has(i.key)) this.cached.set(i.key, []);
      const list = this.lists.get(i.key) ?? [];
      list.unshift({ id, freed: false, name: `sb${i.sb}:${i.path}` });
      this.lists.set(i.key, list);
    }
    for (const list of this.lists.values()) for (const e of list) if (this.live.has(e.id) && !now.has(e.id)) e.freed = true;
    this.live = new Set(now.keys());
  }

  /** A file is looked up and bytes [from, to) of it read (the whole file by default): a page-cache miss with a freed head is a hit. */
  private touch(op: Op, r: Resolved | undefined, from = 0, to = Infinity): void {
    if (!r) return;
    this.model.lookup(r);
    this.follow();
    const key = this.keyOf(r);
    if (!key || from >= r.file.size) return; // past the end of the file nothing is read
    const ranges = this.cached.get(key)!;
    const miss = ranges.every(([a, b]) => to <= a - READAHEAD_SLACK || from >= b + READAHEAD_SLACK);
    const head = this.lists.get(key)![0];
    if (miss && head.freed) this.hits.push({ step: this.step, op: describeOp(op), evicted: head.name });
    ranges.push([from, to]);
  }

  private keyOf(r: Resolved): string | undefined {
    const path = r.file.linkOf ?? r.file.path;
    return this.model.sharedInodes().find((i) => i.sb === r.mount.sb.id && i.path === path)?.key;
  }

  /** DONTNEED and drop_caches empty a page cache when nothing maps it and no reader refills it. */
  private cachesDroppable(): boolean {
    return this.model.predictResidentAfterDontneed().expect === 0;
  }

  private ref(r: FileRef): Resolved | undefined {
    return this.model.resolve(r);
  }

  private perform(op: Op): void {
    const m = this.model;
    switch (op.op) {
      case "mount": {
        const backing = backingOn(op.backing, this.fileBacked);
        const p = m.predictMount(op.image, backing, op.opts);
        if (p.result.expect === "ok" || p.result.expect === "unspecified") m.commitMount(op.image, backing, op.opts, p.sharing.expect);
        return;
      }
      case "remount": {
        const p = m.predictRemount(op.slot, op.data);
        if (p && (p.result.expect === "ok" || p.result.expect === "unspecified")) m.commitRemount(op.slot, p.sharing.expect);
        return;
      }
      case "umount": {
        const p = m.predictUmount(op.slot, op.lazy);
        if (p && (p.expect === "ok" || p.expect === "unspecified")) m.commitUmount(op.slot);
        return;
      }
      case "read":
        return op.method === "read" ? this.touch(op, this.ref(op.at)) : this.touch(op, this.ref(op.at), op.offset, op.offset + op.length);
      case "copy":
        return this.touch(op, this.ref(op.at), op.offset, op.offset + op.length);
      case "odirect": {
        const r = this.ref(op.at);
        if (r) m.lookup(r); // refused or not, no page cache read
        return;
      }
      case "frames": {
        for (const r of m.resolvePair(op.a, op.b, op.like) ?? []) this.touch(op, r);
        return;
      }
      case "fadvise": {
        const r = this.ref(op.at);
        this.touch(op, r);
        const key = r && this.keyOf(r);
        if (key && this.cachesDroppable()) this.cached.set(key, []);
        return;
      }
      case "drop_caches":
        if (this.cachesDroppable()) for (const key of this.cached.keys()) this.cached.set(key, []);
        return m.commitDropCaches();
      case "hold": {
        const r = this.ref(op.at);
        if (!r) return;
        this.touch(op, r);
        this.holds.push(r);
        return m.commitHold(r.mount, r.file);
      }
      case "release": {
        const h = pick(this.holds, op.hold);
        if (!h) return;
        this.holds.splice(this.holds.indexOf(h), 1);
        return m.commitRelease(h.mount, h.file);
      }
      case "cgread": // a whole read from inside a cgroup (the kernels explored have CONFIG_MEMCG)
        return this.touch(op, this.ref(op.at));
      case "reader": {
        const r = this.ref(op.at);
        if (!r) return;
        this.touch(op, r);
        return m.commitReader(r.mount);
      }
    }
  }
}
