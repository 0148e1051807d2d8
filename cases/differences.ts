// X. Behaviour differences to document: interfaces that answer differently for a file served from the
// shared page cache than for the same file on a plain mount (cachestat, leases, FS_IOC_GETFSLABEL,
// statx DIO alignment, F_SETFL O_DIRECT, SEEK_DATA/SEEK_HOLE). Each case measures both sides and
// records a difference as a finding; it fails only when it cannot measure or the bytes read are wrong.
import { xxh64Hex } from "../harness/util/hash.ts";
import { defineCase, type CaseDef } from "../harness/runner/case.ts";
import type { CaseContext } from "../harness/runner/context.ts";
import { sharedAndPlain as pair } from "./fixtures.ts";

/** The probe's result, or the errno name when the kernel refused it (t.errno). */
async function outcome<T>(t: CaseContext, p: Promise<T>): Promise<T | string> {
  let value: T | undefined;
  const e = await t.errno(p.then((v) => (value = v)));
  return e === "ok" ? (value as T) : e;
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** A difference between the shared and the plain file is a finding (documented behaviour, not a failure). */
function document(t: CaseContext, what: string, shared: unknown, plain: unknown): void {
  if (show(shared) !== show(plain)) t.finding(`${what}: shared file ${show(shared)}, plain mount ${show(plain)}`);
}

const base = {
  groups: ["X"],
  requires: ["page-cache-share"] as CaseDef["requires"],
  images: ["share-a", "share-b"],
};

export const X1 = defineCase({
  ...base,
  id: "X1",
  name: "cachestat-on-shared-file",
  requires: ["page-cache-share", "cachestat"],
  expect: "cachestat(2) of a fully read file is recorded for a shared and a plain file next to mincore residency (documented: 0 on shared files while resident)",
  async run(t) {
    const p = await pair(t);
    for (const [side, path] of [["shared", p.sharedPath], ["plain", p.plainPath]] as const) {
      t.assertEqual(`${side}: read returns the source's bytes`, (await t.agent.readHash(path)).xxh64, p.xxh64);
      const mc = await t.agent.mincore(path);
      const cs = await t.agent.cachestat(path);
      t.measure(`${side}_mincore_resident`, mc.resident, "pages", { kind: "exact" });
      t.measure(`${side}_cachestat_cache`, cs.cache, "pages", { kind: "exact" });
      if (side === "plain") t.expectEqual("plain: cachestat agrees with mincore (the measurement works)", cs.cache, mc.resident);
      else if (cs.cache !== mc.resident) t.finding(`cachestat on a shared file reports ${cs.cache} cached pages while mincore shows ${mc.resident}/${mc.pages} resident`);
    }
  },
});

export const X2 = defineCase({
  ...base,
  id: "X2",
  name: "read-lease-on-shared-file",
  expect: "F_SETLEASE F_RDLCK on an O_RDONLY fd is recorded for a shared and a plain file",
  async run(t) {
    const p = await pair(t);
    const s = await outcome(t, t.agent.fcntlProbe(p.sharedPath, "setlease_rdlck"));
    const u = await outcome(t, t.agent.fcntlProbe(p.plainPath, "setlease_rdlck"));
    const v = (x: typeof s) => (typeof x === "string" ? x : x.lease);
    t.measure("shared_lease_granted", v(s) === "rdlck" ? 1 : 0, "count", { kind: "exact" });
    t.measure("plain_lease_granted", v(u) === "rdlck" ? 1 : 0, "count", { kind: "exact" });
    t.expectEqual("plain: a read lease is granted (the measurement works)", v(u), "rdlck");
    document(t, "F_SETLEASE F_RDLCK", v(s), v(u));
  },
});

export const X3 = defineCase({
  ...base,
  id: "X3",
  name: "fs-label-ioctl-on-shared-file",
  expect: "FS_IOC_GETFSLABEL on a shared file, a plain file and each mount's root directory is recorded",
  async run(t) {
    const p = await pair(t);
    const s = await outcome(t, t.agent.fsLabel(p.sharedPath));
    const u = await outcome(t, t.agent.fsLabel(p.plainPath));
    const sr = await outcome(t, t.agent.fsLabel(p.shared.dir));
    const ur = await outcome(t, t.agent.fsLabel(p.plain.dir));
    for (const [k, v] of [["shared_file", s], ["plain_file", u], ["shared_root", sr], ["plain_root", ur]] as const) {
      t.measure(`${k}_label_ok`, /^E[A-Z]+$/.test(v) ? 0 : 1, "count", { kind: "exact" });
    }
    // The checks that make the recording mean something: the probe answers on a plain mount, and the
    // shared file is the file (differences alone are findings, never checks).
    t.expect("plain: FS_IOC_GETFSLABEL on the mount root answers (the measurement works)", typeof ur === "string" && !/^E[A-Z]+$/.test(ur), { expected: "a label (possibly empty)", seen: ur });
    t.expectEqual("shared file reads the source's bytes", (await t.agent.readHash(p.sharedPath)).xxh64, p.xxh64);
    document(t, "FS_IOC_GETFSLABEL on a file", s, u);
    document(t, "FS_IOC_GETFSLABEL on the mount root", sr, ur);
  },
});

export const X4 = defineCase({
  ...base,
  id: "X4",
  name: "statx-dio-alignment-on-shared-file",
  expect: "statx(2) STATX_DIOALIGN (and DIO read alignment) of a shared and a plain file are recorded; size and blocks agree",
  async run(t) {
    const p = await pair(t);
    const s = await t.agent.statx(p.sharedPath);
    const u = await t.agent.statx(p.plainPath);
    t.expectEqual("statx size of the shared file", s.size, p.size);
    t.expectEqual("statx size of the plain file", u.size, p.size);
    for (const [k, v] of [["shared", s], ["plain", u]] as const) {
      t.measure(`${k}_dio_mem_align`, v.dio_mem_align ?? -1, "B", { kind: "exact" });
      t.measure(`${k}_dio_offset_align`, v.dio_offset_align ?? -1, "B", { kind: "exact" });
      t.measure(`${k}_dio_read_offset_align`, v.dio_read_offset_align ?? -1, "B", { kind: "exact" });
    }
    const dio = (v: typeof s) => ({ mem: v.dio_mem_align, offset: v.dio_offset_align, read_offset: v.dio_read_offset_align });
    document(t, "statx DIO alignment (null: not reported)", dio(s), dio(u));
    const open = await outcome(t, t.agent.openProbe(p.sharedPath, ["O_RDONLY", "O_DIRECT"]).then(() => "ok"));
    t.measure("shared_odirect_open_ok", open === "ok" ? 1 : 0, "count", { kind: "exact" });
    if (s.dio_offset_align && open !== "ok") {
      t.finding(`statx reports DIO alignment (mem ${s.dio_mem_align} B, offset ${s.dio_offset_align} B) for a shared file whose O_DIRECT open fails with ${open}`);
    }
  },
});

export const X5 = defineCase({
  ...base,
  id: "X5",
  name: "setfl-o-direct-on-shared-file",
  expect: "fcntl(F_SETFL, O_DIRECT) on a shared and a plain file is recorded with whether it sticks; a read afterwards returns the source's bytes",
  async run(t) {
    const p = await pair(t);
    const first = (await t.agent.readAt(p.plainPath, "pread", 0, [4096])).data;
    const want = xxh64Hex(first);
    const summary: Record<string, string> = {};
    for (const [side, path] of [["shared", p.sharedPath], ["plain", p.plainPath]] as const) {
      const r = await outcome(t, t.agent.fcntlProbe(path, "setfl_odirect"));
      if (typeof r === "string") {
        summary[side] = `F_SETFL refused: ${r}`;
        t.measure(`${side}_setfl_odirect_ok`, 0, "count", { kind: "exact" });
        continue;
      }
      t.measure(`${side}_setfl_odirect_ok`, 1, "count", { kind: "exact" });
      t.measure(`${side}_odirect_sticks`, r.direct ? 1 : 0, "count", { kind: "exact" });
      summary[side] = `F_SETFL ok, O_DIRECT ${r.direct ? "set" : "not set"}, read ${r.read ?? r.read_errname}`;
      if (r.read !== null && r.read !== undefined) {
        t.expectEqual(`${side}: 4 KiB read after F_SETFL O_DIRECT returns 4096 bytes`, r.read, 4096);
        t.expectEqual(`${side}: bytes read after F_SETFL O_DIRECT equal the source`, r.xxh64, want);
      }
    }
    document(t, "fcntl(F_SETFL, O_DIRECT)", summary.shared, summary.plain);
    const open = await outcome(t, t.agent.openProbe(p.sharedPath, ["O_RDONLY", "O_DIRECT"]).then(() => "ok"));
    t.measure("shared_odirect_open_ok", open === "ok" ? 1 : 0, "count", { kind: "exact" });
    if (open !== "ok" && summary.shared.startsWith("F_SETFL ok, O_DIRECT set")) {
      t.finding(`F_SETFL sets O_DIRECT on a shared file whose O_DIRECT open fails with ${open} (${summary.shared})`);
    }
  },
});

export const X6 = defineCase({
  ...base,
  id: "X6",
  name: "seek-data-hole-on-shared-file",
  expect: "lseek SEEK_DATA/SEEK_HOLE at 0, inside and at EOF of a shared and a plain file are recorded (a file without holes: data at the offset, hole at EOF, ENXIO at EOF)",
  async run(t) {
    const p = await pair(t);
    const probes = [
      ["data", 0],
      ["hole", 0],
      ["data", 12345],
      ["hole", 12345],
      ["data", p.size],
      ["hole", p.size],
    ] as const;
    for (const [whence, off] of probes) {
      const s = await outcome(t, t.agent.lseek(p.sharedPath, whence, off));
      const u = await outcome(t, t.agent.lseek(p.plainPath, whence, off));
      if (typeof s === "number") t.measure(`shared_seek_${whence}_${off}`, s, "B", { kind: "exact" });
      if (typeof u === "number") t.measure(`plain_seek_${whence}_${off}`, u, "B", { kind: "exact" });
      document(t, `SEEK_${whence.toUpperCase()} at ${off}`, s, u);
    }
    t.expectEqual("shared file reads the source's bytes", (await t.agent.readHash(p.sharedPath)).xxh64, p.xxh64);
  },
});
