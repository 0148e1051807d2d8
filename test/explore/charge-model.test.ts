// The charge model (memory cgroups), table-driven, without a guest: what a whole read from inside a
// cgroup is charged after the sharing model made, filled, dropped or evicted page caches, how limits,
// moves and removals change what it knows, and what memory.max, cgroup.procs and rmdir return.
import { describe, expect, it } from "vitest";
import { SharingModel, type ModelImage, type Tri } from "../../harness/explore/model.ts";
import { ChargeModel, CHARGE_MIN_FILE } from "../../harness/explore/charge-model.ts";
import type { Backing, MountOptionSet } from "../../harness/explore/program.ts";

const BIG = 1 << 20;
const fp = (c: string) => `sha256:${c.repeat(64)}`;
const file = (path: string, size: number, content: string) => ({ path, size, sha256: content.repeat(64), xxh64: content.repeat(16), fingerprint: fp(content), layout: "plain" });
const IMAGES: ModelImage[] = [
  { name: "a", fingerprinted: true, files: [file("/x", BIG, "1"), file("/small", 8192, "2")] },
  { name: "b", fingerprinted: true, files: [file("/copy-of-x", BIG, "1")] },
];
const shared: MountOptionSet = { share: true, domain: "d1" };
const PLAIN: MountOptionSet = { share: false };

/** A sharing model with the charge model listening, the given mounts made, and cgroups cg1, cg2. */
function setup(mounts: [number, Backing, MountOptionSet][]) {
  const model = new SharingModel(IMAGES);
  const charges = new ChargeModel();
  model.listener = charges.listener;
  for (const [image, backing, opts] of mounts) model.commitMount(image, backing, opts, model.predictMount(image, backing, opts).sharing.expect as Tri);
  const cg1 = charges.commitCreate(charges.nextName());
  const cg2 = charges.commitCreate(charges.nextName());
  /** Look the file up (as every operation does) and return its page cache's owner. */
  const at = (slot: number, f: number) => {
    const r = model.resolve({ slot, file: f })!;
    model.lookup(r);
    return { owner: model.cacheOwner(r), size: r.file.size };
  };
  return { model, charges, cg1, cg2, at };
}

describe("what a whole read from inside a cgroup is charged", () => {
  type Step = (s: ReturnType<typeof setup>) => void;
  const rows: [string, [number, Backing, MountOptionSet][], Step, "about the file's size" | "about nothing" | undefined][] = [
    ["the first reader of a shared file (M2)", [[0, "bdev", shared], [1, "bdev", shared]], () => {}, "about the file's size"],
    ["a reader of pages another cgroup brought in through the other mount (M2)", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      const a = s.at(0, 0);
      s.charges.commitRead(a.owner, s.cg2);
    }, "about nothing"],
    ["a reader of pages the root cgroup read in whole", [[0, "bdev", shared], [1, "bdev", shared]], (s) => s.charges.read(s.at(0, 0).owner, "root", true), "about nothing"],
    ["a reader of pages read in part only: not known", [[0, "bdev", shared], [1, "bdev", shared]], (s) => s.charges.read(s.at(0, 0).owner, "root", false), undefined],
    ["unshared mounts: the other mount's cache is another one", [[0, "bdev", PLAIN], [1, "bdev", PLAIN]], (s) => s.charges.commitRead(s.at(0, 0).owner, s.cg2), "about the file's size"],
    ["after drop_caches evicted the inodes", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      s.charges.commitRead(s.at(0, 0).owner, s.cg2);
      s.model.commitDropCaches();
      s.charges.dropCaches(s.model.liveCaches());
    }, "about the file's size"],
    ["after drop_caches while a held file keeps the shared inode: not known", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      const r = s.model.resolve({ slot: 0, file: 0 })!;
      s.model.lookup(r);
      s.model.commitHold(r.mount, r.file);
      s.charges.read(s.model.cacheOwner(r), "root", true);
      s.model.commitDropCaches();
      s.charges.dropCaches(s.model.liveCaches());
    }, undefined],
    ["after fadvise(DONTNEED) left nothing resident", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      const a = s.at(0, 0);
      s.charges.read(a.owner, "root", true);
      s.charges.dontneed(a.owner, 0);
    }, "about the file's size"],
    ["after the cgroup that was charged got a small memory.max: not known", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      s.charges.commitRead(s.at(0, 0).owner, s.cg2);
      s.charges.commitLimit(s.cg2, 2 << 20);
    }, undefined],
    ["after the cgroup that was charged was removed: not known", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      s.charges.commitRead(s.at(0, 0).owner, s.cg2);
      s.charges.commitRemove(s.cg2);
    }, undefined],
    ["moving a process does not change what is charged", [[0, "bdev", shared], [1, "bdev", shared]], (s) => {
      s.charges.commitRead(s.at(0, 0).owner, s.cg2);
      s.charges.commitMove(1234, s.cg1);
    }, "about nothing"],
    ["after a concurrent reader: no prediction", [[0, "bdev", shared], [1, "bdev", shared]], (s) => s.charges.reader(), undefined],
  ];
  it.each(rows)("%s", (_label, mounts, before, want) => {
    const s = setup(mounts);
    before(s);
    const b = s.at(1, 0);
    expect(s.charges.predictRead(b.owner, s.cg1, b.size)?.expect).toBe(want);
  });

  it("makes no prediction for a file too small to tell from the noise, or one the cgroup's limit cannot hold", () => {
    const s = setup([[0, "bdev", shared]]);
    const small = s.at(0, 1);
    expect(small.size).toBeLessThan(CHARGE_MIN_FILE);
    expect(s.charges.predictRead(small.owner, s.cg1, small.size)).toBeUndefined();
    s.charges.commitLimit(s.cg1, 2 << 20);
    const x = s.at(0, 0);
    expect(s.charges.predictRead(x.owner, s.cg1, x.size)).toBeUndefined();
    s.charges.commitLimit(s.cg1, 64 << 20);
    expect(s.charges.predictRead(x.owner, s.cg1, x.size)?.expect).toBe("about the file's size");
  });
});

describe("cgroup operations", () => {
  it("memory.max is a hard limit only when set; a move is accepted and charges nothing to the target", () => {
    const s = setup([]);
    expect(s.charges.predictUnderMax(s.cg1)).toBeUndefined();
    expect(s.charges.predictLimit().expect).toBe("ok");
    s.charges.commitLimit(s.cg1, 8 << 20);
    expect(s.charges.predictUnderMax(s.cg1)?.expect).toBe("yes");
    s.charges.commitLimit(s.cg1, "max");
    expect(s.charges.predictUnderMax(s.cg1)).toBeUndefined();
    expect(s.charges.predictMove().expect).toBe("ok");
    expect(s.charges.predictMoveCharge().expect).toBe("about nothing");
  });

  it("rmdir is refused while a moved process lives in the cgroup, accepted after it moved on or exited", () => {
    const s = setup([]);
    expect(s.charges.predictRemove(s.cg1).expect).toBe("ok");
    s.charges.commitMove(7, s.cg1);
    expect(s.charges.predictRemove(s.cg1).expect).toBe("EBUSY");
    s.charges.commitMove(7, s.cg2);
    expect(s.charges.predictRemove(s.cg1).expect).toBe("ok");
    expect(s.charges.predictRemove(s.cg2).expect).toBe("EBUSY");
    s.charges.commitExit(7);
    expect(s.charges.predictRemove(s.cg2).expect).toBe("ok");
  });

  it("cgroup indexes resolve modulo the live cgroups; names are never reused", () => {
    const s = setup([]);
    expect(s.charges.resolve(3)?.name).toBe(s.cg2.name);
    s.charges.commitRemove(s.cg1);
    expect(s.charges.resolve(0)?.name).toBe(s.cg2.name);
    expect(s.charges.nextName()).not.toBe(s.cg1.name);
    s.charges.commitRemove(s.cg2);
    expect(s.charges.resolve(0)).toBeUndefined();
  });
});
