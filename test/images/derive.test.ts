// Owns: tests of derived images (`derive:` in images/*.yaml; harness/images/spec.ts + build.ts): the
// built bytes differ from the base exactly in the mutated fingerprint value(s) and the superblock checksum,
// the reader re-reads the mutated values, the manifest records the mutation, derived images are cached and
// chain, and bad derive specs give SpecErrors with file:line.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages, type BuiltImage } from "../../harness/images/build.ts";
import { erofsTools } from "../../harness/images/erofs-utils.ts";
import { loadSpecs, SpecError } from "../../harness/images/spec.ts";
import { ErofsImage } from "../../harness/images/erofs/reader.ts";
import { SB, SB_OFFSET } from "../../harness/images/erofs/format.ts";
import { ishareHash } from "../../harness/images/erofs/collide.ts";

const SPEC = `images:
  d-base:
    mkfs: { compress: none }
    files:
      - { path: /a.bin, gen: random, size: 64KiB, seed: 1 }
      - { path: /b.bin, gen: random, size: 64KiB, seed: 2 }
      - { path: /c.bin, gen: random, size: 100KiB, seed: 3 }
      - { path: /dir/p.bin, gen: random, size: 8KiB, seed: 4 }
      - { path: /dir/q.bin, gen: random, size: 8KiB, seed: 5 }
      - { path: /dir/r.bin, gen: random, size: 8KiB, seed: 6 }
  d-forged:
    derive: { image: d-base, mutation: forgeFingerprint, args: { path: /b.bin, fromPath: /a.bin } }
  d-prefixed:
    derive: { image: d-base, mutation: setFingerprintBytes, args: { path: /b.bin, value: { fingerprintOf: /a.bin, prefix: "x" } } }
  d-chain:
    derive: { image: d-forged, mutation: emptyFingerprint, args: { path: /c.bin } }
  d-collide:
    derive: { image: d-base, mutation: collideFingerprints, args: { path: /dir, domainId: dom, keyLayout: domain-nul-value } }
  d-badid:
    derive: { image: d-base, mutation: badIsharePrefixId }
`;

let work: string;
let built: Map<string, BuiltImage>;
const saved = process.env.PCSHARE_CACHE;
const bytes = async (b: BuiltImage) => new Uint8Array(await readFile(b.imagePath));

/** Byte offsets where two equal-length buffers differ. */
function diff(a: Uint8Array, b: Uint8Array): number[] {
  expect(b.length).toBe(a.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
const CHECKSUM = [0, 1, 2, 3].map((i) => SB_OFFSET + SB.checksum + i);
const inRange = (o: number, from: number, len: number) => o >= from && o < from + len;

beforeAll(async () => {
  await erofsTools();
  work = await mkdtemp(path.join(tmpdir(), "pcshare-derive-test-"));
  process.env.PCSHARE_CACHE = path.join(work, "cache");
  await writeFile(path.join(work, "d.yaml"), SPEC);
  built = await buildImages([path.join(work, "d.yaml")]);
}, 600_000);
afterAll(async () => {
  if (saved === undefined) delete process.env.PCSHARE_CACHE;
  else process.env.PCSHARE_CACHE = saved;
  if (work) await rm(work, { recursive: true, force: true });
});

describe("derived images", () => {
  it("forgeFingerprint: only /b.bin's value and the checksum change; the reader sees /a.bin's value", async () => {
    const base = await bytes(built.get("d-base")!);
    const forged = await bytes(built.get("d-forged")!);
    const img0 = ErofsImage.open(base);
    const x = img0.fingerprintXattr(img0.resolve("/b.bin"))!;
    for (const o of diff(base, forged)) expect(inRange(o, x.valueOffset, x.value.length) || CHECKSUM.includes(o)).toBe(true);
    const img = ErofsImage.open(forged);
    expect(img.superblock.checksumValid).toBe(true);
    expect(img.fingerprint(img.resolve("/b.bin"))).toEqual(img0.fingerprint(img0.resolve("/a.bin")));
    const m = built.get("d-forged")!.manifest;
    expect(m.mutation?.name).toBe("forgeFingerprint");
    expect(m.mutation?.base.name).toBe("d-base");
    expect(m.mutation?.changed.map((c) => c.path)).toEqual(["/b.bin"]);
    expect(m.files.find((f) => f.path === "/b.bin")?.fingerprint).toBe(m.files.find((f) => f.path === "/a.bin")?.fingerprint);
    expect(m.files.find((f) => f.path === "/b.bin")?.sha256).not.toBe(m.files.find((f) => f.path === "/a.bin")?.sha256);
    expect(m.mutation?.expect.mount).toBe("ok");
  });

  it("setFingerprintBytes with fingerprintOf + prefix writes a 40-byte value in the same entry", async () => {
    const base = await bytes(built.get("d-base")!);
    const out = await bytes(built.get("d-prefixed")!);
    const img0 = ErofsImage.open(base);
    const x = img0.fingerprintXattr(img0.resolve("/b.bin"))!;
    for (const o of diff(base, out)) expect(inRange(o, x.entryOffset, x.entrySize) || CHECKSUM.includes(o)).toBe(true);
    const img = ErofsImage.open(out);
    const v = img.fingerprint(img.resolve("/b.bin"))!;
    expect(v.length).toBe(40);
    expect(Buffer.from(v).toString("latin1", 0, 1)).toBe("x");
    expect(v.subarray(1)).toEqual(img0.fingerprint(img0.resolve("/a.bin")));
    expect(built.get("d-prefixed")!.manifest.mutation?.args.value).toBe(Buffer.from(v).toString("hex"));
  });

  it("chains: a derived image of a derived image carries both mutations", async () => {
    const img = ErofsImage.open(await bytes(built.get("d-chain")!));
    const forged = ErofsImage.open(await bytes(built.get("d-forged")!));
    expect(img.fingerprint(img.resolve("/b.bin"))).toEqual(forged.fingerprint(forged.resolve("/b.bin")));
    expect(img.fingerprint(img.resolve("/c.bin"))?.length).toBe(0);
    expect(built.get("d-chain")!.manifest.mutation?.base.name).toBe("d-forged");
  });

  it("collideFingerprints: distinct values under /dir, one kernel hash for the domain", async () => {
    const img = ErofsImage.open(await bytes(built.get("d-collide")!));
    const vals = ["/dir/p.bin", "/dir/q.bin", "/dir/r.bin"].map((p) => img.fingerprint(img.resolve(p))!);
    expect(new Set(vals.map((v) => Buffer.from(v).toString("hex"))).size).toBe(3);
    expect(new Set(vals.map((v) => ishareHash(v, "dom", "domain-nul-value"))).size).toBe(1);
    const base = ErofsImage.open(await bytes(built.get("d-base")!));
    expect(img.fingerprint(img.resolve("/a.bin"))).toEqual(base.fingerprint(base.resolve("/a.bin")));
    expect(built.get("d-collide")!.manifest.mutation?.changed).toHaveLength(3);
  });

  it("superblock mutations: only the prefix id byte and the checksum change", async () => {
    const base = await bytes(built.get("d-base")!);
    const out = await bytes(built.get("d-badid")!);
    for (const o of diff(base, out)) expect(o === SB_OFFSET + SB.ishareXattrPrefixId || CHECKSUM.includes(o)).toBe(true);
    expect(built.get("d-badid")!.manifest.mutation?.expect.kernelMessage).toMatch(/invalid ishare xattr prefix id/);
  });

  it("is cached: a second build returns the same directories", async () => {
    const again = await buildImages([path.join(work, "d.yaml")], { names: ["d-chain", "d-prefixed"] });
    expect(again.get("d-chain")!.imagePath).toBe(built.get("d-chain")!.imagePath);
    expect(again.get("d-prefixed")!.manifest.key).toBe(built.get("d-prefixed")!.manifest.key);
    expect(built.get("d-forged")!.manifest.key).not.toBe(built.get("d-base")!.manifest.key);
  });
});

describe("derive validation", () => {
  const bad = async (yaml: string): Promise<SpecError> => {
    const f = path.join(work, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(f, `images:\n  b:\n    mkfs: { compress: none }\n    files:\n      - { path: /a, gen: random, size: 1KiB, seed: 1 }\n${yaml}`);
    try {
      loadSpecs([f]);
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      expect((err as Error).message.startsWith(`${f}:`)).toBe(true);
      return err as SpecError;
    }
    throw new Error("spec was accepted");
  };
  it("names the line and field of each mistake", async () => {
    let e = await bad("  d:\n    derive: { image: b, mutation: frob }\n");
    expect(e.line).toBe(7);
    expect(e.message).toMatch(/unknown mutation "frob"/);
    e = await bad("  d:\n    derive: { image: b, mutation: forgeFingerprint, args: { path: /a } }\n");
    expect(e.message).toMatch(/needs fromPath/);
    e = await bad("  d:\n    derive: { image: nope, mutation: badIsharePrefixId }\n");
    expect(e.message).toMatch(/missing base image "nope"/);
    e = await bad("  d:\n    derive: { image: e, mutation: badIsharePrefixId }\n  e:\n    derive: { image: d, mutation: badIsharePrefixId }\n");
    expect(e.message).toMatch(/derive cycle/);
    e = await bad("  d:\n    mkfs: { compress: none }\n    derive: { image: b, mutation: badIsharePrefixId }\n");
    expect(e.message).toMatch(/remove "mkfs"/);
    e = await bad("  d:\n    derive: { image: b, mutation: setFingerprintBytes, args: { path: /a, value: { hex: abc } } }\n");
    expect(e.field).toBe("images.d.derive.args.value.hex");
    e = await bad("  d:\n    derive: { image: b, mutation: collideFingerprints, args: { path: /a, domainId: \"x,y\" } }\n");
    expect(e.message).toMatch(/bad domainId/);
  });
});
