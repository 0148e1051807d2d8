// Owns: the model of memory cgroups in an exploration program: the cgroups it made (their memory.max
// and the processes moved into them), and for each page cache the sharing model knows (a file's own,
// or its key's shared inode) whether it is empty, filled whole and charged to one cgroup, or not known.
// From that it predicts what a read from inside a cgroup is charged, whether writing memory.max or
// cgroup.procs and removing a cgroup succeed, and that usage stays under memory.max.
//
// Sources of the rules:
// - Documentation/admin-guide/cgroup-v2.rst: "A memory area is charged to the cgroup which instantiated
//   it and stays charged to the cgroup until the area is released. Migrating a process to a different
//   cgroup doesn't move the memory usage that it instantiated while in the previous cgroup to the new
//   cgroup"; memory.max is "the memory usage hard limit"; "A cgroup which doesn't have any children or
//   live processes can be removed by removing the directory" (else EBUSY).
// - The catalog (CASES.md M2, M3): shared pages are charged once, to the cgroup that read them first; a
//   later reader, in another cgroup, through another mount, is charged about nothing for them; the
//   bytes read are the source's whatever the limits.
// Reads from outside any cgroup of the program (the agent, in the root cgroup) fill page caches too:
// they are charged to "root". A cache that was partly read, partly reclaimed (a cgroup with a limit
// below what it reads), read by a concurrent reader or kept across drop_caches by a mapping is "not
// known": no charge is predicted for it until its inode is made again.
import type { CacheListener, Prediction } from "./model.ts";

/** An empty page cache, one filled whole and charged to a cgroup, or one whose state is not known. */
type CacheState = "empty" | { cg: string } | "unknown";

export interface ModelCgroup {
  name: string;
  /** memory.max in bytes, or undefined for "max". */
  max?: number;
  /** Holds (by their process ids in the executor) moved into it and still alive. */
  procs: Set<number>;
}

/** File charge within which a reader of cached pages counts as charged nothing (metadata blocks, TCG noise). */
export const CHARGE_SLACK = 64 << 10;
/** Files below this size are not judged by their charge (it would be within the slack). */
export const CHARGE_MIN_FILE = 160 << 10;
const PAGE = 4096;
/** Room a limited cgroup needs beside a file for the reader itself (its process, page tables, slab): below that the limit may reclaim the file as it is read. */
const LIMIT_ROOM = 2 << 20;

export type Charge = "about the file's size" | "about nothing";

export class ChargeModel {
  /** Live cgroups, in creation order (cgroup indexes resolve over this list). */
  readonly cgroups: ModelCgroup[] = [];
  private readonly caches = new Map<string, CacheState>();
  private created = 0;
  /** A concurrent reader was started: it reads whatever it likes for a while, no charge is predicted after it. */
  private readerStarted = false;

  // ---- page caches, told by the sharing model ----

  /** As SharingModel.listener: a new inode (or shared inode) starts with an empty page cache; an evicted one's is gone. */
  readonly listener: CacheListener = {
    created: (owner) => void this.caches.set(owner, "empty"),
    dropped: (owner) => void this.caches.delete(owner),
  };

  /** drop_caches: the caches that live on (held files keep theirs) keep their mapped pages only. */
  dropCaches(live: readonly string[]): void {
    for (const o of live) if (this.caches.get(o) !== "empty") this.caches.set(o, "unknown");
  }

  /** A read from `cg` (a cgroup name or "root"): whole fills an empty cache, a range leaves it partly filled. */
  read(owner: string | undefined, cg: string, whole: boolean): void {
    if (owner === undefined) return;
    const s = this.caches.get(owner);
    if (s === "empty") this.caches.set(owner, whole ? { cg } : "unknown");
  }

  /** The cache after fadvise(DONTNEED): empty when no page stayed resident. */
  dontneed(owner: string | undefined, resident: number): void {
    if (owner !== undefined && this.caches.has(owner)) this.caches.set(owner, resident === 0 ? "empty" : "unknown");
  }

  reader(): void {
    this.readerStarted = true;
  }

  // ---- cgroups ----

  resolve(cg: number): ModelCgroup | undefined {
    return this.cgroups.length ? this.cgroups[((cg % this.cgroups.length) + this.cgroups.length) % this.cgroups.length] : undefined;
  }

  /** The name of the next cgroup (unique within a program, and in the suite's guest while it lives). */
  nextName(): string {
    return `pcs-ex-cg${this.created + 1}`;
  }

  commitCreate(name: string): ModelCgroup {
    this.created++;
    const cg: ModelCgroup = { name, procs: new Set() };
    this.cgroups.push(cg);
    return cg;
  }

  predictLimit(): Prediction<string> {
    return { expect: "ok", rule: "memory.max takes a byte count or max (cgroup-v2.rst)" };
  }

  /** memory.max was written: what the cgroup had charged may be reclaimed (down to the new limit). */
  commitLimit(cg: ModelCgroup, max: number | "max"): void {
    cg.max = max === "max" ? undefined : max;
    if (cg.max !== undefined) this.forget(cg.name);
  }

  /** Whether the cgroup's usage may be above its memory.max: never (a hard limit). */
  predictUnderMax(cg: ModelCgroup): Prediction<"yes"> | undefined {
    return cg.max === undefined ? undefined : { expect: "yes", rule: "memory.max is the memory usage hard limit: memory.current never exceeds it (cgroup-v2.rst)" };
  }

  /**
   * What a whole read of a file of `size` bytes from inside `cg` is charged (memory.stat file): the
   * file when its page cache is empty (the first reader is charged, M2), about nothing when another
   * read filled it already (shared pages are charged once, M2); undefined when no rule decides from
   * what the model knows (the cache's state not known, the file too small to tell, a limit it may hit).
   */
  predictRead(owner: string | undefined, cg: ModelCgroup, size: number): Prediction<Charge> | undefined {
    if (this.readerStarted || owner === undefined || size < CHARGE_MIN_FILE) return undefined;
    if (cg.max !== undefined && cg.max < Math.ceil(size / PAGE) * PAGE + LIMIT_ROOM) return undefined;
    const s = this.caches.get(owner);
    if (s === "empty") return { expect: "about the file's size", rule: "the first reader's cgroup is charged the pages it brings into the page cache (cgroup-v2.rst; M2)" };
    if (s !== undefined && s !== "unknown") return { expect: "about nothing", rule: `pages already cached (charged to ${s.cg}) are charged once: a later reader, in any cgroup, is charged about nothing for them (M2)` };
    return undefined;
  }

  /** A read from inside `cg` happened; under a limit it may have reclaimed what the cgroup had charged. */
  commitRead(owner: string | undefined, cg: ModelCgroup): void {
    this.read(owner, cg.name, true);
    if (cg.max !== undefined) this.forget(cg.name);
  }

  predictMove(): Prediction<string> {
    return { expect: "ok", rule: "writing a live process's pid to cgroup.procs moves it (cgroup-v2.rst)" };
  }

  /** Charges stay where they were made: the target's file charge does not grow by the moved process's pages. */
  predictMoveCharge(): Prediction<Charge> {
    return { expect: "about nothing", rule: "migrating a process doesn't move the memory usage it instantiated (cgroup-v2.rst)" };
  }

  commitMove(pid: number, to: ModelCgroup): void {
    for (const c of this.cgroups) c.procs.delete(pid);
    to.procs.add(pid);
  }

  /** The hold's process ended (released). */
  commitExit(pid: number): void {
    for (const c of this.cgroups) c.procs.delete(pid);
  }

  predictRemove(cg: ModelCgroup): Prediction<string> {
    return cg.procs.size
      ? { expect: "EBUSY", rule: "a cgroup with live processes cannot be removed (cgroup-v2.rst)" }
      : { expect: "ok", rule: "a cgroup without children or live processes can be removed (cgroup-v2.rst)" };
  }

  /** The cgroup is gone: its charges move to its parent or stay with the dying cgroup (not predicted further). */
  commitRemove(cg: ModelCgroup): void {
    this.cgroups.splice(this.cgroups.indexOf(cg), 1);
    this.forget(cg.name);
  }

  private forget(cg: string): void {
    for (const [o, s] of this.caches) if (typeof s === "object" && s.cg === cg) this.caches.set(o, "unknown");
  }
}
