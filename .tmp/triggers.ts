import fc from "fast-check";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { programArb, concrete, FP_NAME, type GenImage } from "/work/wt/explore/harness/explore/generate.ts";
import { SharingModel, type ModelImage, type Tri } from "/work/wt/explore/harness/explore/model.ts";
import { modelImage } from "/work/wt/explore/harness/explore/sources.ts";
import { pick, type Op } from "/work/wt/explore/harness/explore/program.ts";
const cache = `${process.env.HOME}/.cache/pcshare/images`;
const fixtures = new Map<string, ModelImage>();
function fixture(name: string): ModelImage {
  if (!fixtures.has(name)) {
    const dirs = readdirSync(cache).filter((d) => d.startsWith(`${name}-`) && /^[0-9a-f]{32}$/.test(d.slice(name.length + 1))).sort((a, b) => statSync(`${cache}/${b}`).mtimeMs - statSync(`${cache}/${a}`).mtimeMs);
    fixtures.set(name, modelImage(JSON.parse(readFileSync(`${cache}/${dirs[0]}/manifest.json`, "utf8"))));
  }
  return fixtures.get(name)!;
}
function fromSpec(name: string, s: GenImage): ModelImage {
  const files: ModelImage["files"] = [];
  for (const f of s.files) {
    if ("symlink" in f) continue;
    if ("hardlink" in f) { const t = files.find((x) => x.path === f.hardlink)!; files.push({ ...t, path: f.path, linkOf: t.path }); continue; }
    const size = f.gen === "empty" ? 0 : f.size;
    const key = JSON.stringify({ ...f, path: undefined, xattrs: undefined });
    const own = f.xattrs?.find((x) => x.name === FP_NAME);
    const fingerprint = s.mkfs.fingerprint === false ? null : own && "value" in own ? `raw:${Buffer.from(own.value).toString("hex")}` : size > 0 ? `sha256:${key}` : null;
    files.push({ path: f.path, size, sha256: key, fingerprint, layout: s.mkfs.compress !== "none" ? "compressed-full" : "plain" });
  }
  return { name, blockSize: s.mkfs.blockSize, files, fingerprinted: s.mkfs.fingerprint !== false };
}
function triggers(ops: Op[], images: ModelImage[]): Set<string> {
  const m = new SharingModel(images);
  const out = new Set<string>();
  for (const op of ops) {
    if (op.op === "mount") {
      const p = m.predictMount(op.image, op.backing, op.opts);
      if (p.result.expect === "ok" || p.result.expect === "unspecified") m.commitMount(op.image, op.backing, op.opts, p.sharing.expect as Tri);
    } else if (op.op === "remount") { const p = m.predictRemount(op.slot, op.data); if (p) m.commitRemount(op.slot, p.sharing.expect as Tri); }
    else if (op.op === "umount") { if (m.predictUmount(op.slot, op.lazy)?.expect === "ok" || op.lazy) m.commitUmount(op.slot); }
    else if (op.op === "hold") { const r = m.resolve(op.at); if (r) { m.lookup(r); m.commitHold(r.mount, r.file); } }
    else if (op.op === "drop_caches") m.commitDropCaches();
    else if (op.op === "reader") { const r = m.resolve(op.at); if (r) m.commitReader(r.mount); }
    else if (op.op === "frames") {
      const pr = m.resolvePair(op.a, op.b, op.like);
      if (!pr) continue;
      const [a, b] = pr; m.lookup(a); m.lookup(b);
      const p = m.predictFrames(op.a, op.b, op.like)!;
      const same = a.mount.sb === b.mount.sb && (a.file.linkOf ?? a.file.path) === (b.file.linkOf ?? b.file.path);
      if (p.expect === "yes" && !same) out.add("mmap");
      if (p.expect === "no" && a.mount.sb.domain !== b.mount.sb.domain && m.shareState(a).expect === "yes" && m.shareState(b).expect === "yes" && a.file.fingerprint === b.file.fingerprint && a.file.size === b.file.size) out.add("domain");
    } else if (op.op === "odirect") { const r = m.resolve(op.at); if (r && m.shareState(r).expect === "yes" && !r.file.layout?.startsWith("compressed") && r.mount.sb.backing === "bdev") out.add("odirect"); }
    else if (op.op === "fadvise") { const r = m.resolve(op.at); if (r) m.lookup(r); if (r && m.shareState(r).expect === "yes" && m.predictResidentAfterDontneed().expect === 0) out.add("fadvise"); }
    else if (op.op === "read" || op.op === "copy") { const r = m.resolve(op.at); if (r) m.lookup(r); if (r && m.sameKey(r).some((x) => x.file.size !== r.file.size)) out.add("size"); }
  }
  return out;
}
const N = Number(process.argv[2] ?? 12);
const results: [number, string][] = [];
for (let seed = Number(process.argv[3] ?? 0); seed < Number(process.argv[4] ?? 300); seed++) {
  const first = new Map<string, number>();
  fc.sample(programArb, { seed, numRuns: N }).forEach((d, i) => {
    const { program, specs } = concrete(d);
    const imgs = program.images.map((n) => (specs.has(n) ? fromSpec(n, specs.get(n)!) : fixture(n)));
    for (const t of triggers(d.ops, imgs)) if (!first.has(t)) first.set(t, i + 1);
  });
  const score = ["mmap", "domain", "odirect", "fadvise", "size"].map((k) => first.get(k) ?? 99);
  results.push([Math.max(...score) * 100 + score.reduce((a, b) => a + b, 0), `${seed}: ${[...first].map(([k, v]) => `${k}@${v}`).join(" ")}`]);
}
results.sort((a, b) => a[0] - b[0]);
console.log(results.filter((r) => r[1].includes("mmap") && r[1].includes("domain")).slice(0, 10).map((r) => r[1]).join("\n")); console.log("--"); console.log(results.slice(0, 5).map((r) => r[1]).join("\n"));
