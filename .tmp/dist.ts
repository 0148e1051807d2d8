import fc from "fast-check";
import { programArb } from "/work/wt/explore/harness/explore/generate.ts";
const c = new Map<string, number>();
for (const d of fc.sample(programArb, { seed: 3, numRuns: 300 })) {
  const n = d.ops.filter((o) => o.op === "frames").length;
  c.set(`frames=${Math.min(n, 3)}`, (c.get(`frames=${Math.min(n, 3)}`) ?? 0) + 1);
  const mounts = d.ops.filter((o) => o.op === "mount");
  const k = `mounts=${Math.min(mounts.length, 4)}`; c.set(k, (c.get(k) ?? 0) + 1);
  c.set("ops", (c.get("ops") ?? 0) + d.ops.length);
}
console.log([...c].sort());
