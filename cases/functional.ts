// F. Functional sharing: two images holding the same file at different paths, mounted in one
// domain, share one page cache (same frames, residency through the mount that never read, no
// second copy in Cached); eviction, O_DIRECT, mmap and the read paths behave as for any file.
import { defineCase } from "../harness/runner/case.ts";
import { xxh64Hex } from "../harness/util/hash.ts";
import { commonFile, expectSharing, PAIR, sharedAndPlain } from "./fixtures.ts";
import { dropCaches } from "../harness/measure/memory.ts";

export const F1 = defineCase({
  id: "F1",
  name: "same-domain-shares-frames",
  groups: ["F"],
  tags: ["smoke", "control"],
  expect:
    "the same file in two images mounted with one domain_id is one set of page frames whichever image is mounted first and whichever file is read (instantiated) first; both read the source's bytes",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    for (const first of [PAIR.a, PAIR.b]) {
      const m1 = await t.mount(first, { domain: "d1" });
      const m2 = await t.mount(first === PAIR.a ? PAIR.b : PAIR.a, { domain: "d1" });
      const [a, b] = first === PAIR.a ? [m1, m2] : [m2, m1];
      // share-a mounted first keeps the unlabelled names of the figures (history, A/B comparisons).
      await expectSharing(t, a, b, "shared", first === PAIR.a ? "" : `${first} mounted first`);
      await t.umount(m2);
      await t.umount(m1);
    }
  },
});

export const F1b = defineCase({
  id: "F1b",
  name: "plain-mounts-do-not-share",
  groups: ["F"],
  tags: ["smoke", "control"],
  expect: "without inode_share the same file in two images has two page caches, whichever is read first (negative control for F1's signals)",
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a");
    const b = await t.mount("share-b");
    await expectSharing(t, a, b, "separate");
  },
});

export const F2 = defineCase({
  id: "F2",
  name: "fadvise-dontneed-evicts-for-both",
  groups: ["F", "M"],
  expect: "after reading through one mount, POSIX_FADV_DONTNEED through the other empties the shared cache for both mounts (A read and B evicting, and B read and A evicting)",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const f = commonFile(t, "share-a", "share-b");
    const sides = { A: a.path(f.pathA), B: b.path(f.pathB) };
    for (const [reader, evicter] of [["A", "B"], ["B", "A"]] as const) {
      const o = `${reader} read, ${evicter} evicts`;
      const suffix = reader === "A" ? "" : "_b_read_a_evicts"; // the A-read figures keep their names
      await dropCaches(t.agent);
      await t.agent.readHash(sides[reader]);
      const before = await t.agent.mincore(sides[evicter]);
      t.measure(`resident_${evicter.toLowerCase()}_before${suffix}`, before.resident, "pages", { kind: "exact" });
      t.assert(`${o}: ${evicter} resident after reading ${reader} (sharing precondition)`, before.resident === before.pages, { expected: before.pages, seen: before.resident });
      await t.agent.fadvise(sides[evicter], "dontneed");
      const ra = await t.agent.mincore(sides.A);
      const rb = await t.agent.mincore(sides.B);
      t.measure(`resident_a_after_dontneed_via_${evicter.toLowerCase()}`, ra.resident, "pages", { kind: "exact" });
      t.measure(`resident_b_after_dontneed_via_${evicter.toLowerCase()}`, rb.resident, "pages", { kind: "exact" });
      t.expectEqual(`${o}: A resident pages after DONTNEED through ${evicter}`, ra.resident, 0);
      t.expectEqual(`${o}: B resident pages after DONTNEED through ${evicter}`, rb.resident, 0);
      const again = await t.agent.readHash(sides[evicter]);
      t.expectEqual(`${o}: ${evicter} reads the source's bytes after eviction`, again.xxh64, f.xxh64);
    }
  },
});

export const F3 = defineCase({
  id: "F3",
  name: "o-direct-refused-on-shared-files",
  groups: ["F"],
  expect: "O_DIRECT open of a fingerprinted file on a sharing mount fails with EINVAL; of an empty (never shared) file it succeeds; on a plain mount both succeed",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const p = await sharedAndPlain(t);
    const odirect = (path: string) => t.errno(t.agent.openProbe(path, ["O_RDONLY", "O_DIRECT"]));
    t.expectEqual("O_DIRECT on a shared file", await odirect(p.sharedPath), "EINVAL");
    t.expectEqual("O_DIRECT on an empty file of the sharing mount", await odirect(p.shared.path("/empty")), "ok");
    t.expectEqual("O_DIRECT on the same content, plain mount", await odirect(p.plainPath), "ok");
  },
});

// ---- F4-F7: mappings, exec, copy paths and read edge cases on shared files ----

export const F4 = defineCase({
  id: "F4",
  name: "mapped-shared-file-shows-user-path",
  groups: ["F"],
  expect:
    "a process mapping a shared file sees the path it opened in /proc/PID/maps and map_files; umount of that mount while mapped fails with EBUSY and succeeds once the mapping is gone",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    await t.mount("share-b", { domain: "d1" });
    const file = a.path(PAIR.fileA);
    const pid = await t.agent.mapHold(file, { maxMs: 30_000 });
    let alive = true;
    try {
      const maps = (await t.agent.readFile(`/proc/${pid}/maps`)).data.toString("utf8");
      const line = maps.split("\n").find((l) => /^[0-9a-f]+-[0-9a-f]+ r/.test(l) && l.includes("/big.bin"));
      t.expect("/proc/PID/maps names the path the process mapped", !!line && line.trimEnd().endsWith(` ${file}`), { expected: file, seen: line ?? maps });
      const range = line?.split(" ")[0];
      if (range) {
        const ls = await t.sh(`readlink /proc/${pid}/map_files/${range}`, { allowFail: true });
        t.expectEqual("map_files link points to the path the process mapped", ls.stdout.trim(), file);
      }
      const frames = await t.agent.procFrames(pid, file);
      t.expect("the helper's mapping is found under the user's path", frames.length === 1, { expected: 1, seen: frames.length });
      const busy = await t.errno(t.agent.umount(a.dir));
      if (busy === "ok") {
        // Unmounted under a live mapping: remount so the reset has something to undo, and fail.
        await t.mount("share-a", { domain: "d1", at: a.dir });
      }
      t.expectEqual("umount while mapped", busy, "EBUSY");
      await t.agent.procKill(pid);
      alive = false;
      t.expectEqual("umount after the mapping is gone", await t.errno(t.umount(a)), "ok");
    } finally {
      if (alive) await t.agent.procKill(pid);
    }
  },
});

export const F5 = defineCase({
  id: "F5",
  name: "exec-same-binary-from-both-mounts",
  groups: ["F"],
  expect:
    "the same static program executed from two images of one domain runs in two processes whose text pages are the same page frames, whichever is started first, and exits 0",
  requires: ["page-cache-share"],
  images: ["exec-a", "exec-b"],
  async run(t) {
    const a = await t.mount("exec-a", { domain: "d1" });
    const b = await t.mount("exec-b", { domain: "d1" });
    const prog = "/bin/pcs-touch";
    const ran = await t.sh(`${a.path(prog)} & p=$!; sleep 0.2; kill $p; wait $p; echo $?`, { allowFail: true });
    t.expect("the program starts from A (killed by SIGTERM while sleeping)", ran.stdout.trim() === "143", { expected: "143", seen: `${ran.stdout.trim()} ${ran.stderr.trim()}` });
    const text = async (pid: number, path: string) => {
      // The program touches its 16 text pages, then sleeps: wait until all are present.
      for (let i = 0; i < 50; i++) {
        const maps = (await t.agent.readFile(`/proc/${pid}/maps`)).data.toString("utf8");
        const first = maps.split("\n")[0] ?? "";
        const shown = first.split(/\s+/).slice(5).join(" ");
        const m = shown ? await t.agent.procFrames(pid, shown) : [];
        if (m.length && m[0].pfns.every((p) => p !== null)) return { shown, pfns: m[0].pfns };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`process ${pid} (${path}) did not map its text`);
    };
    // Both orders: A's program started (instantiated) first, then, after drop_caches freed it, B's.
    for (const first of ["A", "B"] as const) {
      const o = first === "A" ? "" : "B started first: "; // the A-first checks and figures keep their names
      const fo = first === "A" ? "" : "_b_first";
      if (first === "B") await dropCaches(t.agent);
      const order = first === "A" ? [a, b] : [b, a];
      const pids: number[] = [];
      try {
        for (const m of order) pids.push(await t.agent.spawn([m.path(prog)], { maxMs: 30_000 }));
        const [pa, pb] = first === "A" ? pids : [pids[1], pids[0]];
        const ta = await text(pa, a.path(prog));
        const tb = await text(pb, b.path(prog));
        t.expectEqual(`${o}process A's text mapping names A's path`, ta.shown, a.path(prog));
        t.expectEqual(`${o}process B's text mapping names B's path`, tb.shown, b.path(prog));
        const equal = ta.pfns.filter((p, i) => p !== null && p === tb.pfns[i]).length;
        t.measure(`text_pages${fo}`, ta.pfns.length, "pages", { kind: "exact" });
        t.measure(`equal_text_frames${fo}`, equal, "pages", { kind: "exact", better: "higher" });
        t.expectEqual(`${o}text pages of both processes are the same frames`, equal, ta.pfns.length);
        const f = t.file("exec-a", prog);
        t.expectEqual(`${o}the program's bytes through B equal the source`, (await t.agent.readHash(b.path(prog))).xxh64, f.xxh64);
      } finally {
        for (const pid of pids) await t.agent.procKill(pid);
      }
    }
  },
});

export const F6 = defineCase({
  id: "F6",
  name: "sendfile-splice-after-other-mount-cached",
  groups: ["F"],
  expect:
    "after one mount read the shared file, sendfile(2) and splice(2) from the other (A after B, and B after A) return the source's bytes; whether the shared cache served them is recorded (Cached growth during the copy)",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const a = await t.mount("share-a", { domain: "d1" });
    const b = await t.mount("share-b", { domain: "d1" });
    const f = commonFile(t, "share-a", "share-b");
    const sides = { A: a.path(f.pathA), B: b.path(f.pathB) };
    for (const [cacher, copier] of [["B", "A"], ["A", "B"]] as const) {
      const o = cacher === "B" ? "" : "_from_b"; // the figures of copies from A keep their names
      await dropCaches(t.agent);
      t.assertEqual(`${cacher} reads the source's bytes`, (await t.agent.readHash(sides[cacher])).xxh64, f.xxh64);
      for (const method of ["sendfile", "splice"] as const) {
        const before = await t.agent.meminfo();
        const r = await t.agent.copyHash(sides[copier], method);
        const after = await t.agent.meminfo();
        t.expectEqual(`${method} from ${copier} copies the whole file`, r.bytes, f.size);
        t.expectEqual(`${method} from ${copier} returns the source's bytes`, r.xxh64, f.xxh64);
        const growth = ((after.Cached ?? 0) - (before.Cached ?? 0)) * 1024;
        t.measure(`${method}${o}_cached_growth`, growth, "B", { kind: "noisy", better: "lower" });
        const served = growth < f.size / 2;
        t.measure(`${method}${o}_served_from_shared_cache`, served ? 1 : 0, "count", { kind: "exact" });
        if (!served) t.finding(`${method} from ${copier} after ${cacher} cached the shared file grew Cached by ${Math.round(growth / 1024)} KiB (a second copy, not the shared cache)`);
      }
      const partial = await t.agent.copyHash(sides[copier], "splice", { offset: 4095, length: 10_000 });
      const ref = await t.agent.readAt(sides[cacher], "pread", 4095, [10_000]);
      t.expectEqual(`splice of an unaligned range from ${copier} equals pread of it through ${cacher}`, partial.xxh64, xxh64Hex(ref.data));
    }
  },
});

export const F7 = defineCase({
  id: "F7",
  name: "read-edges-match-unshared-file",
  groups: ["F"],
  expect:
    "read, pread, readv and preadv at, across and past EOF (and inside) return the same counts and bytes on a shared file as on the same file of a plain mount, whichever of the two is read first",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  async run(t) {
    const shared = await t.mount("share-a", { domain: "d1" });
    const plain = await t.mount("share-b");
    const files: [string, string, number][] = [
      [PAIR.fileA, PAIR.fileB, t.file("share-a", PAIR.fileA).size],
      ["/small.bin", "/small.bin", t.file("share-a", "/small.bin").size],
    ];
    for (const [pa, pb, size] of files) {
      const probes: { method: "read" | "pread" | "readv" | "preadv"; offset: number; iov: number[]; expect: number }[] = [
        { method: "pread", offset: 0, iov: [4096], expect: Math.min(4096, size) },
        { method: "pread", offset: Math.max(0, size - 10), iov: [4096], expect: Math.min(10, size) },
        { method: "pread", offset: size, iov: [4096], expect: 0 },
        { method: "pread", offset: size + 8192, iov: [4096], expect: 0 },
        { method: "read", offset: size + 1, iov: [100], expect: 0 },
        { method: "readv", offset: Math.max(0, size - 50), iov: [20, 20, 4096], expect: Math.min(50, size) },
        { method: "preadv", offset: 1, iov: [1, 4095, 3], expect: Math.min(4099, size - 1) },
        { method: "preadv", offset: size, iov: [10, 10], expect: 0 },
      ];
      for (const [p, plainFirst] of probes.flatMap((x) => [[x, false], [x, true]] as const)) {
        const label = `${pa}: ${p.method} at ${p.offset} into [${p.iov.join(",")}]${plainFirst ? " (plain read first)" : ""}`;
        const readShared = () => t.agent.readAt(shared.path(pa), p.method, p.offset, p.iov);
        const readPlain = () => t.agent.readAt(plain.path(pb), p.method, p.offset, p.iov);
        if (plainFirst) await dropCaches(t.agent);
        const u0 = plainFirst ? await readPlain() : undefined;
        const s = await readShared();
        const u = u0 ?? (await readPlain());
        t.expectEqual(`${label}: byte count (shared)`, s.bytes, p.expect);
        t.expectEqual(`${label}: shared and plain return the same count`, s.bytes, u.bytes);
        t.expect(`${label}: shared and plain return the same bytes`, s.data.equals(u.data), { expected: u.data.toString("hex").slice(0, 32), seen: s.data.toString("hex").slice(0, 32) });
      }
    }
  },
});
