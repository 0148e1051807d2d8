// L. Lifetime (debug): the mount whose inode serves a shared file's I/O goes away (unmount, lazy
// unmount, backing file removed, module unload) while other mounts and readers keep using the
// shared page cache; drop_caches races open/read/close. A correct kernel keeps the data right and
// tears everything down without busy inodes, use-after-free, slab leaks or warnings (the runner
// fails a case on any such kernel message). Images: images/integrity.yaml (corpus-a/-b: 1 MiB plain
// files; z-lz4hc/-b: 1 MiB lz4hc text) and images/basic.yaml share-a/-b (8 MiB, for L4, which lazily
// unmounts each of the two in turn). Files of 1 MiB keep each loop short: busybox sha256sum runs at
// a few MB/s under TCG.
import { defineCase } from "../harness/runner/case.ts";
import type { CaseContext, MountOptions } from "../harness/runner/context.ts";
import { dropCaches, erofsInodeObjects } from "../harness/measure/memory.ts";
import { commonFile, ORDERS, type Order } from "./fixtures.ts";
import { CONTROL_BUDGET_MS, CONTROL_CYCLES, CONTROL_LOOP, RACE_BUDGET_MS, RACE_READERS, raceAndCheck } from "./race-helpers.ts";
import type { CaseDef } from "../harness/runner/case.ts";

const WORK = "/run/pcshare-lifetime";
const EROFS_KO = "/lib/modules/erofs.ko";

/** Wait until `path` exists in the guest (polling), at most `ms`. */
async function waitFile(t: CaseContext, path: string, ms: number): Promise<boolean> {
  const r = await t.sh(`i=0; while [ ! -e ${path} ] && [ $i -lt ${Math.ceil(ms / 50)} ]; do usleep 50000; i=$((i+1)); done; [ -e ${path} ]`, {
    allowFail: true,
    timeoutMs: ms + 5_000,
  });
  return r.exitCode === 0;
}

interface RemountLoop {
  a: string;
  b: string;
  mount?: Omit<MountOptions, "domain">;
  /** Remove each mount's backing file (file-backed mounts) right after mounting. */
  removeBacking?: boolean;
  /** Control: plain mounts (no inode_share), so A's inode never serves B's reads. */
  plain?: boolean;
  /** Control: A's copy of the file is never looked up, so B's own inode serves B's reads. */
  noLookup?: boolean;
}

const isControl = (o: { plain?: boolean; noLookup?: boolean }) => o.plain === true || o.noLookup === true;

/**
 * B stays mounted while reader threads read its copy of the file with read(2), compare every byte
 * with the source and drop the shared page cache (POSIX_FADV_DONTNEED) so each read does I/O again.
 * Meanwhile A is mounted, its copy looked up and read (its inode, newest on the shared inode's list,
 * then serves the shared I/O), the cache dropped through it, and A unmounted again, as fast as the
 * guest agent can (remount_race), until a kernel report, a wrong byte or the time budget.
 */
async function remountUnderReader(t: CaseContext, o: RemountLoop): Promise<void> {
  const f = commonFile(t, o.a, o.b);
  const domain = o.plain ? false : "life";
  const b = await t.mount(o.b, { ...o.mount, domain });
  const a = await t.mount(o.a, { ...o.mount, domain }); // learn A's source and data, then leave it to the race
  await t.umount(a);
  if (o.removeBacking) await t.sh(`rm -f ${b.source}`);
  const pb = b.path(f.pathB);
  await raceAndCheck(t, {
    mounts: [{ source: a.source, target: a.dir, data: a.data }],
    mounted: false,
    read_paths: [pb],
    xxh64: f.xxh64,
    ...(!o.noLookup && { lookup: f.pathA }),
    ...(o.removeBacking && { copy_source: true }),
    ...(isControl(o) && CONTROL_LOOP),
  });
  t.expectEqual("B reads the source's bytes after the race", (await t.agent.readHash(pb)).xxh64, f.xxh64);
}

const L1_LOOP: RemountLoop = { a: "corpus-a", b: "corpus-b" };
const L2_LOOP: RemountLoop = { a: "z-lz4hc", b: "z-lz4hc-b" };
const L3_LOOP: RemountLoop = { a: "corpus-a", b: "corpus-b", mount: { backing: "file", extra: "directio" }, removeBacking: true };
const RACE_TIME = `for up to ${RACE_BUDGET_MS / 1000} s`;

export const L1 = defineCase({
  id: "L1",
  name: "unmounting-the-io-serving-mount-under-a-reader",
  groups: ["L"],
  expect:
    `unmounting and remounting A (whose inode serves the shared file's I/O) in a tight loop ${RACE_TIME} while ${RACE_READERS} threads read B's copy and drop its cache: every read returns the source's bytes, no busy inodes after unmount, no use-after-free`,
  concernTag: "lifetime",
  concern: "lifetime rules",
  requires: ["page-cache-share"],
  images: ["corpus-a", "corpus-b"],
  debug: true,
  async run(t) {
    await remountUnderReader(t, L1_LOOP);
  },
});

export const L2 = defineCase({
  id: "L2",
  name: "unmounting-the-io-serving-mount-under-a-reader-lz4hc",
  groups: ["L"],
  expect: "L1 with lz4hc-compressed files (decompression runs after the inode reference is dropped): correct bytes, clean unmounts",
  concernTag: "lifetime",
  concern: "lifetime rules",
  requires: ["page-cache-share", "compression"],
  images: ["z-lz4hc", "z-lz4hc-b"],
  debug: true,
  async run(t) {
    t.assert("the shared file is compressed", t.file("z-lz4hc", commonFile(t, "z-lz4hc", "z-lz4hc-b").pathA).layout?.startsWith("compressed") === true);
    await remountUnderReader(t, L2_LOOP);
  },
});

export const L3 = defineCase({
  id: "L3",
  name: "file-backed-directio-mounts-survive-backing-file-removal",
  groups: ["L"],
  expect:
    "L1 on file-backed mounts with the directio option, each backing file removed right after mounting (A gets a fresh copy every cycle): reads stay correct, unmounts are clean",
  concernTag: "blob-removal",
  concern: "if the blob gets removed",
  requires: ["page-cache-share", "file-backed"],
  images: ["corpus-a", "corpus-b"],
  debug: true,
  async run(t) {
    const probe = await t.mount("corpus-b", { backing: "file", extra: "directio" });
    const shown = (await t.agent.readFile("/proc/mounts")).data.toString().split("\n").find((l) => l.includes(` ${probe.dir} `)) ?? "";
    t.expect("the directio option is accepted and shown in /proc/mounts", shown.includes("directio"), { expected: "…,directio", seen: shown });
    await t.umount(probe);
    // The backing files live on ramfs (no O_DIRECT there): erofs then reads them buffered.
    t.finding("backing files are on ramfs, which has no FMODE_CAN_ODIRECT: directio is accepted but erofs falls back to buffered reads of the backing file");
    await remountUnderReader(t, L3_LOOP);
  },
});

/**
 * The two controls of a racing case: its loop with plain mounts (A and B share nothing), and its
 * loop without looking up A's copy (B's own inode serves B's reads). Both must pass wherever the
 * case itself may fail: they show that the failure needs A's inode to serve the shared I/O.
 */
function controlsOf(race: CaseDef, loop: RemountLoop): [CaseDef, CaseDef] {
  const common = { groups: race.groups, concern: race.concern, concernTag: race.concernTag, requires: race.requires, images: race.images, debug: true };
  return [
    defineCase({
      ...common,
      id: `${race.id}p`,
      name: `${race.name}-control-plain`,
      expect: `control for ${race.id}: its loop for ${CONTROL_CYCLES} cycles (at most ${CONTROL_BUDGET_MS / 1000} s) with plain mounts (no inode_share, so A's inode never serves B's reads): every read returns the source's bytes, no kernel report`,
      run: (t) => remountUnderReader(t, { ...loop, plain: true }),
    }),
    defineCase({
      ...common,
      id: `${race.id}n`,
      name: `${race.name}-control-no-lookup`,
      expect: `control for ${race.id}: its loop for ${CONTROL_CYCLES} cycles (at most ${CONTROL_BUDGET_MS / 1000} s) with sharing mounts, but A's copy of the file is never looked up (B's own inode serves B's reads): every read returns the source's bytes, no kernel report`,
      run: (t) => remountUnderReader(t, { ...loop, noLookup: true }),
    }),
  ];
}

export const [L1p, L1n] = controlsOf(L1, L1_LOOP);
export const [L2p, L2n] = controlsOf(L2, L2_LOOP);
export const [L3p, L3n] = controlsOf(L3, L3_LOOP);

/** erofs_inode objects in use once caches are dropped and the slab is shrunk (per-CPU slabs flushed). */
async function settledInodeObjects(t: CaseContext): Promise<number | undefined> {
  await dropCaches(t.agent);
  await t.sh(`[ -w /sys/kernel/slab/erofs_inode/shrink ] && echo 1 > /sys/kernel/slab/erofs_inode/shrink; usleep 300000; echo 3 > /proc/sys/vm/drop_caches; [ -w /sys/kernel/slab/erofs_inode/shrink ] && echo 1 > /sys/kernel/slab/erofs_inode/shrink; true`);
  return erofsInodeObjects(t.agent);
}

export const L4 = defineCase({
  id: "L4",
  name: "lazy-unmount-with-open-and-mapped-files-tears-down",
  groups: ["L"],
  expect:
    "A is lazily unmounted while its shared files are open and mapped: the open files and B keep reading the source's bytes; once they are closed and unmapped the superblock goes away and the erofs inodes (real and shared) are freed back to the baseline; and the same with B lazily unmounted while A reads",
  concernTag: "lifetime",
  concern: "lifetime rules",
  requires: ["page-cache-share"],
  images: ["share-a", "share-b"],
  debug: true,
  async run(t) {
    let base = await settledInodeObjects(t);
    if (base === undefined) t.finding("erofs_inode is not listed in /proc/slabinfo (slab merging?): inode release checked through Cached only");
    else t.measure("erofs_inode_objects", base, "count", { series: "baseline", kind: "noisy" });
    let cached0 = (await t.agent.meminfo()).Cached ?? 0;
    // Both orders, each on fresh mounts: A lazily unmounted under B's reader, then B under A's. The
    // second starts from the figures the first's teardown settled at, so a leak is blamed on one order.
    for (const o of ORDERS) ({ base, cached0 } = await lazyUnmountOrder(t, o, base, cached0));
  },
});

/**
 * One order of L4: `o.first` (X) is read, mapped, held open and lazily unmounted while `o.second` (Y)
 * reads; then everything is closed and unmounted and the teardown checked against `base` (erofs_inode
 * objects) and `cached0` (kB). Returns the settled figures after the teardown.
 */
async function lazyUnmountOrder(t: CaseContext, o: Order, base: number | undefined, cached0: number): Promise<{ base: number | undefined; cached0: number }> {
  const [X, Y] = [o.first, o.second];
  const image = { A: "share-a", B: "share-b" };
  const f = commonFile(t, "share-a", "share-b");
  const inImage = { A: f.pathA, B: f.pathB };
  const my = await t.mount(image[Y], { domain: "d1" });
  const mx = await t.mount(image[X], { domain: "d1" });
  const motd = t.file(image[X], "/etc/motd");
  const px = mx.path(inImage[X]);
  const py = my.path(inImage[Y]);
  await t.agent.readHash(px);
  const mapPid = await t.agent.mapHold(px, { maxMs: 60_000 });
  let mapPidAlive = true;
  await t.sh(`mkdir -p ${WORK}; rm -f ${WORK}/held ${WORK}/go ${WORK}/big.sum ${WORK}/motd.sum ${WORK}/closed`);
  const holder = await t.agent.spawn(
    [
      "/bin/sh",
      "-c",
      `exec 3<${px}; exec 4<${mx.path("/etc/motd")}; touch ${WORK}/held; ` +
        `while [ ! -e ${WORK}/go ]; do usleep 50000; done; ` +
        `sha256sum <&3 > ${WORK}/big.sum; sha256sum <&4 > ${WORK}/motd.sum; exec 3<&- 4<&-; touch ${WORK}/closed; sleep 60`,
    ],
    { maxMs: 60_000 },
  );
  try {
    t.assert(`${o.check}the holder opened ${X}'s files`, await waitFile(t, `${WORK}/held`, 10_000));
    const [mapped] = await t.agent.procFrames(mapPid, px);
    await t.umount(mx, ["detach"]);
    const inMounts = (await t.agent.readFile("/proc/mounts")).data.toString().includes(` ${mx.dir} `);
    t.expectEqual(`${o.check}${X} is gone from the mount table after the lazy unmount`, inMounts, false);
    t.expectEqual(`${o.check}${Y} reads the source's bytes after ${X}'s lazy unmount`, (await t.agent.readHash(py)).xxh64, f.xxh64);
    const [fy] = await t.agent.pageFrames([py]);
    const same = mapped ? mapped.pfns.filter((p, i) => p !== null && p !== 0 && p === fy.pfns[i]).length : 0;
    t.measure(`mapped_frames_equal_to_${Y.toLowerCase()}${o.figure}`, same, "pages", { kind: "exact" });
    t.expect(`${o.check}the mapping through ${X} and ${Y}'s file use the same frames`, same >= 0.95 * fy.pages, { expected: `>= 95% of ${fy.pages}`, seen: same });
    await t.agent.fadvise(py, "dontneed"); // the next reads through the held fds do I/O on the detached mount
    await t.sh(`touch ${WORK}/go`);
    t.assert(`${o.check}the holder read and closed its files`, await waitFile(t, `${WORK}/closed`, 15_000));
    const sums = await t.sh(`cat ${WORK}/big.sum ${WORK}/motd.sum`);
    const [big, small] = sums.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]);
    t.expectEqual(`${o.check}the fd held on the detached mount reads the big file's bytes`, big, t.file(image[X], inImage[X]).sha256); // busybox sha256sum
    t.expectEqual(`${o.check}the fd held on the detached mount reads /etc/motd's bytes`, small, motd.sha256);
    await t.agent.procKill(mapPid);
    mapPidAlive = false;
  } finally {
    await t.agent.procKill(holder);
    if (mapPidAlive) await t.agent.procKill(mapPid);
  }
  t.expectEqual(`${o.check}${Y} reads the source's bytes after ${X}'s last user is gone`, (await t.agent.readHash(py)).xxh64, f.xxh64);
  await t.umount(my);
  const after = await settledInodeObjects(t);
  const cached1 = (await t.agent.meminfo()).Cached ?? 0;
  t.measure(`cached_growth_after_teardown${o.figure}`, (cached1 - cached0) * 1024, "B", { kind: "noisy" });
  t.expect(`${o.check}the page cache of both mounts is released (Cached back within 1 MiB of the start)`, cached1 - cached0 < 1024, {
    expected: `< ${cached0 + 1024} kB`,
    seen: `${cached1} kB`,
  });
  if (base !== undefined && after !== undefined) {
    t.measure("erofs_inode_objects", after, "count", { series: `after teardown${o.check ? ", B first" : ""}`, kind: "noisy" });
    t.expect(`${o.check}erofs_inode objects back to the baseline`, after <= base, { expected: `<= ${base}`, seen: after });
  }
  return { base: after, cached0: cached1 };
}

export const L5 = defineCase({
  id: "L5",
  name: "module-unload-after-sharing-mounts-leaves-nothing",
  groups: ["L"],
  expect:
    "10 times: mount four images in two domains (plain and lz4hc, block and file-backed), read and map the shared files, unmount all, rmmod erofs (succeeds, its slab caches go away without 'still has objects'), insmod it again",
  concernTag: "lifetime",
  concern: "lifetime rules",
  requires: ["page-cache-share", "compression"],
  images: ["corpus-a", "corpus-b", "z-lz4hc", "z-lz4hc-b"],
  debug: true,
  timeoutMs: 90_000,
  async run(t) {
    const builtin = (await t.sh(`grep -q '^erofs ' /proc/modules`, { allowFail: true })).exitCode !== 0;
    if (builtin) t.skip("erofs is built into this kernel: it cannot be unloaded");
    const other = (await t.agent.readFile("/proc/mounts")).data.toString().split("\n").filter((l) => / erofs /.test(l));
    t.assertEqual("no erofs mount left from before", other, []);
    const plain = commonFile(t, "corpus-a", "corpus-b");
    const z = commonFile(t, "z-lz4hc", "z-lz4hc-b");
    const failures: string[] = [];
    const t0 = Date.now();
    let cycles = 0;
    try {
      for (let i = 0; i < 10; i++) {
        const a = await t.mount("corpus-a", { domain: "p" });
        const b = await t.mount("corpus-b", { domain: "p", backing: "file" });
        const za = await t.mount("z-lz4hc", { domain: "z" });
        const zb = await t.mount("z-lz4hc-b", { domain: "z" });
        if ((await t.agent.readHash(a.path(plain.pathA))).xxh64 !== plain.xxh64) failures.push(`${i}: plain A`);
        if ((await t.agent.readHash(b.path(plain.pathB))).xxh64 !== plain.xxh64) failures.push(`${i}: plain B`);
        // Fault in the first 256 KiB of the compressed file through both mounts (mmap), same frames expected.
        const [fa, fb] = await t.agent.pageFrames([za.path(z.pathA), zb.path(z.pathB)], { offset: 0, length: 256 * 1024 });
        if (fa.pfns.some((p, k) => p === null || p !== fb.pfns[k])) failures.push(`${i}: lz4hc frames not shared`);
        for (const m of [a, b, za, zb]) await t.umount(m);
        const rm = await t.sh(`rmmod erofs 2>&1`, { allowFail: true });
        if (rm.exitCode !== 0) {
          failures.push(`${i}: rmmod erofs: ${rm.stdout.trim()}`);
          break;
        }
        const slabs = await t.sh(`grep -c '^erofs' /proc/slabinfo`, { allowFail: true });
        if (slabs.stdout.trim() !== "0") failures.push(`${i}: erofs slab caches left after rmmod: ${slabs.stdout.trim()}`);
        const ins = await t.sh(`insmod ${EROFS_KO} 2>&1`, { allowFail: true });
        if (ins.exitCode !== 0) {
          failures.push(`${i}: insmod: ${ins.stdout.trim()}`);
          break;
        }
        cycles++;
      }
    } finally {
      // Later cases need erofs loaded whatever happened here.
      await t.sh(`grep -q '^erofs ' /proc/modules || insmod ${EROFS_KO}`, { allowFail: true });
    }
    t.measure("cycles", cycles, "count", { kind: "noisy" });
    t.measure("cycle_ms", cycles ? Math.round((Date.now() - t0) / cycles) : 0, "ms");
    t.expectEqual("failures (cycle: what)", failures.slice(0, 6), []);
    t.expectEqual("completed mount/unmount/rmmod/insmod cycles", cycles, 10);
    const after = await erofsInodeObjects(t.agent);
    if (after !== undefined) t.measure("erofs_inode_objects_after_reload", after, "count", { kind: "noisy" });
  },
});

export const L6 = defineCase({
  id: "L6",
  name: "drop-caches-races-open-read-close",
  groups: ["L"],
  expect:
    "for about 6 s, readers open/read/close shared files (plain and lz4hc, big and tiny) through both mounts while two loops write 2 to drop_caches: every read returns the source's bytes, no warning",
  requires: ["page-cache-share", "compression"],
  images: ["corpus-a", "corpus-b", "z-lz4hc", "z-lz4hc-b"],
  debug: true,
  async run(t) {
    const a = await t.mount("corpus-a", { domain: "d1" });
    const b = await t.mount("corpus-b", { domain: "d1" });
    const za = await t.mount("z-lz4hc", { domain: "d2" });
    const zb = await t.mount("z-lz4hc-b", { domain: "d2" });
    const big = commonFile(t, "corpus-a", "corpus-b");
    const bigFile = t.file("corpus-a", big.pathA);
    const small = { a: "/c/tiny37/f00", b: "/mirror/x/tiny37/f00", file: t.file("corpus-a", "/c/tiny37/f00") };
    t.assertEqual("the tiny files are twins", t.file("corpus-b", small.b).sha256, small.file.sha256);
    const text = t.file("z-lz4hc", "/text.txt");
    const textB = t.file("z-lz4hc-b", "/t/text.txt");
    // [tag, guest path, sha256 (busybox sha256sum in the loop), XXH64 (the agent's read after it)]
    const readers: [string, string, string, string][] = [
      ["big-a", a.path(big.pathA), bigFile.sha256!, bigFile.xxh64!],
      ["big-b", b.path(big.pathB), bigFile.sha256!, bigFile.xxh64!],
      ["small-a", a.path(small.a), small.file.sha256!, small.file.xxh64!],
      ["small-b", b.path(small.b), small.file.sha256!, small.file.xxh64!],
      ["lz4hc-a", za.path(text.path), text.sha256!, text.xxh64!],
      ["lz4hc-b", zb.path(textB.path), textB.sha256!, textB.xxh64!],
    ];
    const seconds = 6;
    const script = [
      `end=$(( $(cut -d. -f1 /proc/uptime) + ${seconds} ))`,
      `now() { cut -d. -f1 /proc/uptime; }`,
      `reader() { n=0; bad=0; while [ $(now) -lt $end ]; do s=$(sha256sum < $2); [ "\${s%% *}" = $3 ] || bad=$((bad+1)); n=$((n+1)); done; echo "$1 $n $bad"; }`,
      `dropper() { n=0; while [ $(now) -lt $end ]; do echo 2 > /proc/sys/vm/drop_caches; n=$((n+1)); done; echo "$1 $n 0"; }`,
      ...readers.map(([tag, p, sha]) => `reader ${tag} ${p} ${sha} &`),
      `dropper drop1 & dropper drop2 &`,
      `wait`,
    ].join("\n");
    const r = await t.sh(script, { timeoutMs: (seconds + 30) * 1000 });
    const results = new Map(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/))
        .map(([tag, n, bad]) => [tag, { n: Number(n), bad: Number(bad) }]),
    );
    for (const [tag] of [...readers, ["drop1"], ["drop2"]]) {
      const x = results.get(tag);
      t.measure("iterations", x?.n ?? 0, "count", { series: tag, kind: "noisy" });
      t.expect(`${tag} ran`, (x?.n ?? 0) > 0, { expected: "> 0", seen: x?.n });
      if (!tag.startsWith("drop")) t.expectEqual(`${tag}: reads with bytes other than the source's`, x?.bad, 0);
    }
    for (const [tag, p, , xxh64] of readers) t.expectEqual(`${tag}: read after the race`, (await t.agent.readHash(p)).xxh64, xxh64);
  },
});
