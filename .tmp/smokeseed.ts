import fc from "fast-check";
import { programArb } from "/work/wt/explore/harness/explore/generate.ts";
import { pick } from "/work/wt/explore/harness/explore/program.ts";
// first program of a seed: a mount without domain_id, remount with inode_share, then a file op on it
const out: string[] = [];
for (let seed = 0; seed < 20000 && out.length < 15; seed++) {
  const [d] = fc.sample(programArb, { seed, numRuns: 1 });
  const mounts: { domain: boolean; id: number }[] = [];
  let armed = -1, hit = -1;
  d.ops.forEach((op, i) => {
    if (hit >= 0) return;
    if (op.op === "mount") {
      const data = op.opts.raw ?? [op.opts.share && "inode_share", op.opts.domain !== undefined && `domain_id=${op.opts.domain}`].filter(Boolean).join(",");
      const ok = !(op.opts.share && op.opts.domain === undefined) && op.opts.domain !== "" && !data.includes("noinode") && !data.includes("dax=always");
      if (ok) mounts.push({ domain: op.opts.domain !== undefined, id: i });
    } else if (op.op === "remount") {
      const m = pick(mounts, op.slot);
      if (m && !m.domain && op.data.includes("inode_share")) armed = m.id;
    } else if (op.op === "umount") {
      const m = pick(mounts, op.slot); if (m) mounts.splice(mounts.indexOf(m), 1);
    } else if (armed >= 0 && "at" in op) {
      const m = pick(mounts, op.at.slot); if (m && m.id === armed) hit = i;
    }
  });
  if (hit >= 0) out.push(`${seed}: hit at op ${hit + 1} of ${d.ops.length}, images ${JSON.stringify(d.images.map((c) => ("fixture" in c ? c.fixture : "twin" in c ? "twin" : "gen")))}`);
}
console.log(out.join("\n"));
