// The program generator: the same seed draws the same programs (what makes `explore --seed N`
// repeatable and a finding's path replayable), different seeds draw different ones, and every drawn
// program is well formed: it starts with a mount, its generated images are valid specs by name.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { applyShape, concrete, deepPath, DEEP_SIZES, genImageName, programArb, weave, weaveLifetime, type GenImage, type ImageChoice } from "../../harness/explore/generate.ts";
import { loadSpecs } from "../../harness/images/spec.ts";
import { buildImages } from "../../harness/images/build.ts";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";

describe("program generator", () => {
  it("draws the same programs for the same seed, others for another seed", () => {
    const a = fc.sample(programArb, { seed: 42, numRuns: 20 });
    const b = fc.sample(programArb, { seed: 42, numRuns: 20 });
    const c = fc.sample(programArb, { seed: 43, numRuns: 20 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it("replays the program of a run index from the seed and path, as shrinking needs", () => {
    const seen: string[] = [];
    fc.assert(fc.property(programArb, (p) => void seen.push(JSON.stringify(p))), { seed: 7, numRuns: 10 });
    let replayed = "";
    fc.check(fc.property(programArb, (p) => ((replayed ||= JSON.stringify(p)), true)), { seed: 7, path: "6", numRuns: 1 });
    expect(replayed).toBe(seen[6]);
  });

  it("every program starts with a mount and its generated images are valid specs", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pcshare-gen-test-"));
    try {
      for (const drawn of fc.sample(programArb, { seed: 1, numRuns: 300 })) {
        expect(drawn.ops[0].op).toBe("mount");
        const { program, specs } = concrete(drawn);
        expect(program.images.length).toBe(drawn.images.length);
        if (!specs.size) continue;
        const file = path.join(dir, "images.yaml");
        writeFileSync(file, stringify({ images: Object.fromEntries(specs) }));
        const loaded = loadSpecs([file]);
        for (const [name, spec] of specs) {
          expect(name).toBe(genImageName(spec));
          expect(loaded.get(name)?.entries.length).toBe(spec.files.length);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the generated images build as their specs say (mkfs.erofs output read back: fingerprints, xattrs, layouts)", async () => {
    // Built into the shared cache (content-keyed): forged fingerprint values, long prefixes, tar,
    // chunks on a blob device and hardlinks all go through mkfs.erofs and the reader's checks here.
    const dir = mkdtempSync(path.join(tmpdir(), "pcshare-gen-build-"));
    try {
      const specs = new Map<string, unknown>();
      for (const drawn of fc.sample(programArb, { seed: 5, numRuns: 12 })) for (const [k, v] of concrete(drawn).specs) specs.set(k, v);
      const file = path.join(dir, "images.yaml");
      writeFileSync(file, stringify({ images: Object.fromEntries(specs) }));
      const built = await buildImages([file]);
      expect(built.size).toBe(specs.size);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("cgroup steps", () => {
  it("are woven into the operations after a cgroup is created, and drawn in some programs only", () => {
    const ops = [{ op: "drop_caches" as const }, { op: "drop_caches" as const }];
    const woven = weave(ops, { at: 1, steps: [{ gap: 0, op: { op: "cgrmdir", cg: 0 } }, { gap: 5, op: { op: "cgcreate" } }] });
    expect(woven.map((o) => o.op)).toEqual(["drop_caches", "cgcreate", "cgrmdir", "drop_caches", "cgcreate"]);
    expect(weave(ops, null)).toEqual(ops);
    const drawn = fc.sample(programArb, { seed: 5, numRuns: 60 });
    const withCg = drawn.filter((p) => p.ops.some((o) => o.op.startsWith("cg")));
    expect(withCg.length).toBeGreaterThan(5);
    expect(withCg.length).toBeLessThan(55);
    for (const p of withCg) expect(p.ops.find((o) => o.op.startsWith("cg"))?.op).toBe("cgcreate");
    for (const p of drawn) for (const o of p.ops) if (o.op === "cglimit" && o.max !== "max") expect(o.max).toBeGreaterThanOrEqual(2 << 20);
  });
});

describe("lifetime steps", () => {
  const steps = { at: 1, image: 2, opts: { share: true, domain: "d1" }, file: 3, unmountSecond: true, lazy: false, method: "pread" as const };
  it("go in one piece: two file-backed mounts of one image, a lookup on each, an unmount, a cold read on the mount left", () => {
    const ops = [{ op: "drop_caches" as const }, { op: "drop_caches" as const }];
    const woven = weaveLifetime(ops, steps);
    expect(woven.map((o) => o.op)).toEqual(["drop_caches", "mount", "mount", "frames", "umount", "fadvise", "read", "drop_caches"]);
    expect(woven[1]).toEqual({ op: "mount", image: 2, backing: "file", opts: steps.opts });
    expect(woven[3]).toEqual({ op: "frames", a: { slot: -2, file: 3 }, b: { slot: -1, file: 3 }, like: true });
    expect(woven[4]).toEqual({ op: "umount", slot: -1, lazy: false });
    expect(weaveLifetime(ops, { ...steps, unmountSecond: false })[4]).toMatchObject({ slot: -2 });
    expect(woven[6]).toMatchObject({ op: "read", at: { slot: -1, file: 3 }, method: "pread", offset: 0 });
    expect(weaveLifetime(ops, null)).toEqual(ops);
  });

  it("are drawn in some programs only, after the other draws (a seed keeps its other operations)", () => {
    const drawn = fc.sample(programArb, { seed: 5, numRuns: 100 });
    const withLifetime = drawn.filter((p) => p.ops.some((o) => o.op === "frames" && o.a.slot === -2));
    expect(withLifetime.length).toBeGreaterThan(5);
    expect(withLifetime.length).toBeLessThan(50);
  });
});

describe("tree shapes and loop mounts", () => {
  const spec: GenImage = { mkfs: { blockSize: 4096, compress: "none", fingerprint: true }, files: [{ path: "/a.bin", gen: "zeros", size: 100 }] };
  const images = [{ fixture: "share-a" }, { spec }] as ImageChoice[];
  const ops = [
    { op: "mount" as const, image: 0, backing: "bdev" as const, opts: { share: true, domain: "d1" } },
    { op: "drop_caches" as const },
    { op: "mount" as const, image: 1, backing: "file" as const, opts: { share: true, domain: "d1" } },
  ];

  it("add a file under a deep directory of a generated image, and make the named mounts through a loop device", () => {
    const p = applyShape(images, ops, { deep: { image: 1, depth: 5, size: 5 * 1024 * 1024, seed: 2 }, loop: [1] });
    expect(deepPath(5)).toBe("/t1/t2/t3/t4/t5/deep.bin");
    expect(p.images[0]).toEqual(images[0]);
    expect(p.images[1]).toEqual({ spec: { ...spec, files: [...spec.files, { path: "/t1/t2/t3/t4/t5/deep.bin", gen: "random", size: 5 * 1024 * 1024, seed: 2 }] } });
    expect(p.ops.map((o) => (o.op === "mount" ? o.backing : o.op))).toEqual(["bdev", "drop_caches", "loop"]);
    // mount indexes wrap; a fixture gets no deep file; nothing drawn changes nothing
    expect(applyShape(images, ops, { deep: { image: 0, depth: 3, size: 1, seed: 1 }, loop: [2] })).toEqual({ images, ops: [{ ...ops[0], backing: "loop" }, ops[1], ops[2]] });
    expect(applyShape(images, ops, { deep: null, loop: [] })).toEqual({ images, ops });
  });

  it("are drawn in some programs only, after the other draws; the deep file's sizes reach several MiB", () => {
    const drawn = fc.sample(programArb, { seed: 7, numRuns: 300 });
    const deep = drawn.flatMap((p) => p.images.flatMap((c) => ("spec" in c ? c.spec.files.filter((f) => f.path.endsWith("/deep.bin")) : [])));
    const loops = drawn.filter((p) => p.ops.some((o) => o.op === "mount" && o.backing === "loop"));
    expect(deep.length).toBeGreaterThan(10);
    expect(deep.length).toBeLessThan(150);
    expect(Math.max(...deep.map((f) => ("size" in f ? f.size : 0)))).toBe(Math.max(...DEEP_SIZES));
    expect(loops.length).toBeGreaterThan(20);
    expect(loops.length).toBeLessThan(150);
  });

  it("a generated image with its deep file builds as its spec says", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pcshare-deep-"));
    try {
      const big: GenImage = { ...spec, files: [...spec.files, { path: deepPath(32), gen: "random", size: 3 * 1024 * 1024 + 1, seed: 1 }] };
      const name = genImageName(big);
      const file = path.join(dir, "images.yaml");
      writeFileSync(file, stringify({ images: { [name]: big } }));
      const built = await buildImages([file], { names: [name] });
      const files = built.get(name)!.manifest.files.filter((f) => f.type === "file");
      expect(files.map((f) => [f.path, f.size])).toContainEqual([deepPath(32), 3 * 1024 * 1024 + 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
