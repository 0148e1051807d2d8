// Picks `explore` seeds on the host, without a guest: for each seed, replays the programs explore
// would run (harness/explore/host-replay.ts) and prints those whose read through a shared inode misses
// its page cache while an evicted inode heads its list (what the list-entry-kept-on-evict mutant
// turns into a use-after-free). Images are built (or taken from the cache) only for programs that
// could get there: two sharing mounts and an unmount or drop_caches.
// Usage: tsx scripts/explore-seeds.ts --seeds 1-200 [--programs 20]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { buildImages } from "../harness/images/build.ts";
import { DEFAULT_SPECS } from "../harness/images/commands.ts";
import { loadSpecs } from "../harness/images/spec.ts";
import { concrete, type DrawnProgram } from "../harness/explore/generate.ts";
import { drawPrograms, staleHeadReads } from "../harness/explore/host-replay.ts";
import { modelImage } from "../harness/explore/sources.ts";
import { describeOp } from "../harness/explore/program.ts";

const { values } = parseArgs({ options: { seeds: { type: "string" }, programs: { type: "string", default: "20" } } });
const range = /^(\d+)(?:-(\d+))?$/.exec(values.seeds ?? "");
const count = Number(values.programs);
if (!range || !Number.isInteger(count) || count < 1) {
  console.error("usage: tsx scripts/explore-seeds.ts --seeds FROM[-TO] [--programs N] (N: programs per seed, default 20)");
  process.exit(2);
}

/** Cheap filter: at least two mounts that ask for sharing, and something that evicts inodes. */
function couldReach(d: DrawnProgram): boolean {
  const sharing = d.ops.filter((o) => o.op === "mount" && o.opts.share && o.opts.domain).length;
  return sharing >= 2 && d.ops.some((o) => o.op === "umount" || o.op === "drop_caches");
}

const fixtures = loadSpecs(DEFAULT_SPECS);
const tmp = mkdtempSync(path.join(tmpdir(), "pcshare-seeds-"));
// a long scan is often stopped by hand: leave no temporary directory behind
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  for (let seed = Number(range[1]); seed <= Number(range[2] ?? range[1]); seed++) {
    const programs = drawPrograms(seed, count);
    let replayed = 0;
    for (const [i, drawn] of programs.entries()) {
      if (!couldReach(drawn)) continue;
      replayed++;
      const { program, specs } = concrete(drawn);
      const file = path.join(tmp, "images.yaml");
      writeFileSync(file, stringify({ images: Object.fromEntries(specs) }));
      const all = new Map([...fixtures, ...(specs.size ? loadSpecs([file]) : [])]);
      const built = await buildImages(all, { names: [...new Set(program.images)] });
      const hits = staleHeadReads(program, program.images.map((n) => modelImage(built.get(n)!.manifest)));
      for (const h of hits) console.log(`seed ${seed} P${i + 1} (${program.ops.length} ops): step ${h.step} ${h.op} [evicted head ${h.evicted}]\n  ${program.ops.map(describeOp).join("; ")}`);
    }
    console.error(`seed ${seed}: ${replayed} of ${programs.length} programs replayed`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
