import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { programArb, concrete } from "/work/wt/explore/harness/explore/generate.ts";
const specs = new Map();
for (const d of fc.sample(programArb, { seed: Number(process.argv[2] ?? 5), numRuns: 12 })) for (const [k, v] of concrete(d).specs) specs.set(k, v);
const feats = (s: any) => [s.mkfs.tar && "tar", s.mkfs.blobdev && "blob", s.mkfs.chunkSize && "chunk", s.mkfs.xattrPrefixes && "pfx", s.mkfs.compress, s.files.some((f: any) => f.xattrs?.some((x: any) => x.name === "trusted.erofs.fp")) && "forged", s.files.some((f: any) => f.hardlink) && "hl", s.files.some((f: any) => f.gen === "sparse") && "sparse"].filter(Boolean).join(",");
for (const [k, v] of specs) console.log(k, feats(v));
writeFileSync("/tmp/explore-gen/images.yaml", stringify({ images: Object.fromEntries(specs) }));
