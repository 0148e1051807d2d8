// Owns: performing an exploration program's cgroup operations in the guest (create a child of the
// cgroup v2 root with the memory controller, write memory.max, read a file from a process inside a
// cgroup, move a hold's process into one, remove one) and comparing each with the charge model
// (charge-model.ts): the bytes read (always the source's), the file charge the reading or receiving
// cgroup gets, usage under memory.max, and what the writes and rmdir return. The agent itself stays in
// the root cgroup: only processes it starts are moved, so a small memory.max never reaches it.
import type { CaseContext } from "../runner/context.ts";
import type { ModelFile, ModelMount, Prediction } from "./model.ts";
import type { Op } from "./program.ts";
import { pick } from "./program.ts";
import { ChargeModel, CHARGE_SLACK, type Charge, type ModelCgroup } from "./charge-model.ts";
import { memcgCurrent, memcgStat, memcgStatUntil } from "../measure/memory.ts";

type CgOp = Extract<Op, { op: "cgcreate" | "cglimit" | "cgread" | "cgmove" | "cgrmdir" }>;

/** What the cgroup operations need from the program's executor. */
export interface CgHost {
  readonly t: CaseContext;
  readonly charges: ChargeModel;
  readonly holds: readonly { pid: number }[];
  observe<T>(op: Op, what: string, p: Prediction<T>, seen: T | string): boolean;
  label(op: Op): string;
  resolveFile(at: Extract<Op, { op: "cgread" }>["at"]): { mount: ModelMount; file: ModelFile; path: string } | undefined;
  cacheOwner(r: { mount: ModelMount; file: ModelFile }): string | undefined;
  judgeBytes(op: Op, what: string, r: { mount: ModelMount; file: ModelFile }, same: (p: { file: ModelFile }) => boolean | undefined, seenError?: string): void;
}

const cgPath = (cg: ModelCgroup, file = "") => `/sys/fs/cgroup/${cg.name}${file && `/${file}`}`;

/** Performs one cgroup operation; a kernel without CONFIG_MEMCG skips them all. */
export async function performCgroup(h: CgHost, op: CgOp): Promise<void> {
  if (h.t.kernel.config.CONFIG_MEMCG !== "y") return;
  if (op.op === "cgcreate") return void h.charges.commitCreate(await h.t.cgroup(h.charges.nextName()));
  const cg = h.charges.resolve(op.cg);
  if (!cg) return;
  switch (op.op) {
    case "cglimit": {
      const seen = await h.t.errno(h.t.agent.writeFile(cgPath(cg, "memory.max"), String(op.max)));
      if (!h.observe(op, "write memory.max", h.charges.predictLimit(), seen)) return;
      h.charges.commitLimit(cg, op.max);
      return underMax(h, op, cg);
    }
    case "cgread":
      return cgRead(h, op, cg);
    case "cgmove":
      return cgMove(h, op, cg);
    case "cgrmdir": {
      const r = await h.t.sh(`rmdir ${cgPath(cg)} 2>&1`, { allowFail: true });
      const seen = r.exitCode === 0 ? "ok" : /busy/i.test(r.stdout) ? "EBUSY" : `failed: ${r.stdout.trim()}`;
      h.observe(op, "rmdir of the cgroup", h.charges.predictRemove(cg), seen);
      if (seen === "ok") h.charges.commitRemove(cg);
      return;
    }
  }
}

async function fileCharge(h: CgHost, cg: ModelCgroup): Promise<number> {
  const v = await memcgStat(h.t.agent, cg.name, "file");
  if (v === undefined) throw new Error(`${cgPath(cg, "memory.stat")} has no "file" field`);
  return v;
}

/**
 * The cgroup's file charge once it shows `want` (memory.stat lags behind charges while a flush is under
 * way: it is read again for at most 5 s, measure/memory.ts), or the last figure.
 */
async function chargeSettled(h: CgHost, cg: ModelCgroup, want: (v: number) => boolean): Promise<number> {
  return (await memcgStatUntil(h.t.agent, cg.name, "file", want)).value;
}

/** The charge a cgroup's file counter grew by, as the model's terms name it (bytes in the finding only). */
function chargeSeen(growth: number, size: number): Charge | "partly" {
  return growth >= 0.9 * size ? "about the file's size" : growth <= CHARGE_SLACK ? "about nothing" : "partly";
}

async function cgRead(h: CgHost, op: Extract<CgOp, { op: "cgread" }>, cg: ModelCgroup): Promise<void> {
  const r = h.resolveFile(op.at);
  if (!r) return;
  const owner = h.cacheOwner(r);
  const predicted = h.charges.predictRead(owner, cg, r.file.size);
  const before = await fileCharge(h, cg);
  // The shell moves itself into the cgroup and execs the reader: only the reader is a member.
  const res = await h.t.sh(`echo $$ > ${cgPath(cg, "cgroup.procs")} && exec sha256sum '${r.path}'`, { allowFail: true, timeoutMs: 120_000 });
  const after = predicted ? await chargeSettled(h, cg, (v) => chargeSeen(v - before, r.file.size) === predicted.expect) : await fileCharge(h, cg);
  const growth = after - before;
  const what = "read(2) of the whole file from inside a cgroup";
  if (res.exitCode !== 0 && cg.max !== undefined && (res.exitCode === 137 || res.exitCode === -9)) {
    h.observe(op, what, { expect: "unspecified", rule: "memory.max may OOM-kill a reader whose cgroup cannot reclaim enough" }, `killed (exit ${res.exitCode})`);
  } else {
    const sha = res.exitCode === 0 ? res.stdout.trim().split(/\s+/)[0] : undefined;
    h.judgeBytes(op, what, r, (p) => p.file.sha256 === sha, sha === undefined ? `exit ${res.exitCode}${res.timedOut ? " (timed out)" : ""}: ${res.stderr.trim().split("\n")[0]}` : undefined);
  }
  if (predicted) {
    const seen = chargeSeen(growth, r.file.size);
    if (seen !== predicted.expect) h.t.finding(`the reading cgroup's file charge grew by ${growth} B for a ${r.file.size} B file @ ${h.label(op)}`);
    h.observe(op, "file charge of the reading cgroup", predicted, seen);
  }
  if (res.exitCode === 0) h.charges.commitRead(owner, cg);
  await underMax(h, op, cg);
}

async function cgMove(h: CgHost, op: Extract<CgOp, { op: "cgmove" }>, cg: ModelCgroup): Promise<void> {
  const hold = pick(h.holds, op.hold);
  if (!hold) return;
  const before = await fileCharge(h, cg);
  const seen = await h.t.errno(h.t.agent.cgroupAttach(hold.pid, cgPath(cg)));
  if (!h.observe(op, "write the hold's pid to cgroup.procs", h.charges.predictMove(), seen)) return;
  h.charges.commitMove(hold.pid, cg);
  const growth = (await chargeSettled(h, cg, (v) => v - before <= CHARGE_SLACK)) - before;
  h.observe(op, "file charge of the cgroup a process moved into", h.charges.predictMoveCharge(), growth <= CHARGE_SLACK ? "about nothing" : "grew");
}

/** memory.current against memory.max, when the cgroup has a limit. */
async function underMax(h: CgHost, op: Op, cg: ModelCgroup): Promise<void> {
  const p = h.charges.predictUnderMax(cg);
  if (!p) return;
  const current = (await memcgCurrent(h.t.agent, cg.name)) ?? NaN;
  if (current > cg.max!) h.t.finding(`memory.current ${current} B above memory.max ${cg.max} B @ ${h.label(op)}`);
  h.observe(op, "memory.current within memory.max", p, current <= cg.max! ? "yes" : "no");
}
