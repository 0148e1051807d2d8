// Owns: tests of images/*.yaml validation (harness/images/spec.ts): each kind of bad input gives a
// SpecError naming file, line and field; the shipped specs load.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSpecs, parseSize, SpecError } from "../../harness/images/spec.ts";

const dir = mkdtempSync(path.join(tmpdir(), "pcshare-spec-test-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function specFile(text: string): string {
  const f = path.join(dir, `s${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
function errorOf(text: string, extra: string[] = []): SpecError {
  const f = specFile(text);
  try {
    loadSpecs([f, ...extra]);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error("spec was accepted");
}
const ok = `images:
  a:
    mkfs: { compress: lz4 }
    files:
      - { path: /x, gen: random, size: 1KiB, seed: 1 }
`;

describe("spec validation", () => {
  it("accepts a good spec and the shipped ones", () => {
    expect(loadSpecs([specFile(ok)]).get("a")?.entries).toHaveLength(1);
    const root = path.resolve(import.meta.dirname, "../../images");
    const all = loadSpecs(["basic.yaml", "layouts.yaml", "scale.yaml"].map((f) => path.join(root, f)));
    expect([...all.keys()]).toContain("share-a");
    const copy = all.get("share-b")!.entries.find((e) => e.path === "/srv/mirror/copy-of-big.bin");
    expect(copy).toMatchObject({ kind: "file", content: { gen: "random", size: 8 << 20, seed: 1 } });
  });

  it("sizes", () => {
    expect(parseSize("8MiB")).toBe(8 << 20);
    expect(parseSize("1.5KiB")).toBe(1536);
    expect(parseSize(100)).toBe(100);
    expect(parseSize("8MB")).toBeUndefined();
    expect(parseSize("1.3B")).toBeUndefined();
  });

  const cases: [string, string, RegExp][] = [
    ["unknown generator", `images:\n  a:\n    files:\n      - { path: /a, gen: random, size: 1, seed: 1 }\n      - { path: /b, gen: randm, size: 1 }\n`,
      /:5: images\.a\.files\[1\]\.gen: unknown generator "randm" \(expected one of: random, text, zeros, empty, sparse/],
    ["bad size", `images:\n  a:\n    files:\n      - path: /a\n        gen: random\n        size: 8MB\n        seed: 1\n`,
      /:6: images\.a\.files\[0\]\.size: bad size "8MB" \(expected bytes or a number with B, KiB, MiB or GiB/],
    ["missing referenced image", `images:\n  a:\n    files:\n      - { path: /a, same: { image: nope, path: /x } }\n`,
      /:4: images\.a\.files\[0\]\.same\.image: missing referenced image "nope" \(known: a\)/],
    ["reference cycle", `images:\n  a:\n    files:\n      - { path: /a, same: { image: b, path: /b } }\n  b:\n    files:\n      - { path: /b, same: { image: a, path: /a } }\n`,
      /:4: images\.a\.files\[0\]\.same: reference cycle: a:\/a -> b:\/b -> a:\/a/],
    ["missing referenced path", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n      - { path: /b, same: { path: /zzz } }\n`,
      /:5: images\.a\.files\[1\]\.same\.path: missing referenced path \/zzz in image "a"/],
    ["duplicate path", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n      - { path: /b, gen: empty }\n      - { path: /a, gen: zeros, size: 1 }\n`,
      /:6: images\.a\.files\[2\]\.path: duplicate path \/a \(also files\[0\]\)/],
    ["bad block size", `images:\n  a:\n    mkfs:\n      blockSize: 3000\n    files:\n      - { path: /a, gen: empty }\n`,
      /:4: images\.a\.mkfs\.blockSize: bad block size 3000 \(expected one of: 512, 1024, 2048, 4096/],
    ["unknown compressor", `images:\n  a:\n    mkfs: { compress: lz5 }\n    files:\n      - { path: /a, gen: empty }\n`,
      /:3: images\.a\.mkfs\.compress: unknown compressor "lz5" \(expected one of: none, lz4, lz4hc, lzma, deflate, libdeflate, zstd\)/],
    ["missing required field", `images:\n  a:\n    files:\n      - { path: /a, gen: random, size: 1 }\n`,
      /:4: images\.a\.files\[0\]\.seed: missing required field seed for gen: random/],
    ["missing kind", `images:\n  a:\n    files:\n      - { path: /a }\n`,
      /:4: images\.a\.files\[0\]: missing required field: one of gen, hardlink, symlink, same/],
    ["YAML syntax error", `images:\n  a:\n    files:\n      - { path: /a, gen: empty\n  b: [\n`,
      /:\d+: YAML syntax error: .*fix the YAML syntax/],
    ["unknown key", `images:\n  a:\n    mkfs: { compress: lz4 }\n    filez: []\n    files:\n      - { path: /a, gen: empty }\n`,
      /:4: images\.a\.filez: unknown key "filez" \(expected one of: mkfs, files, source\)/],
    ["unknown mkfs key", `images:\n  a:\n    mkfs:\n      compress: lz4\n      blocksize: 4096\n    files:\n      - { path: /a, gen: empty }\n`,
      /:5: images\.a\.mkfs\.blocksize: unknown key "blocksize" \(expected one of: compress, level, blockSize/],
    ["path not absolute", `images:\n  a:\n    files:\n      - { path: data/a, gen: empty }\n`,
      /:4: images\.a\.files\[0\]\.path: bad path "data\/a": path not absolute \(start it with \/\)/],
    ["hardlink to missing file", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n      - { path: /h, hardlink: /nothere }\n`,
      /:5: images\.a\.files\[1\]\.hardlink: hardlink to missing file \/nothere/],
    ["file used as directory", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n      - { path: /a/b, gen: empty }\n`,
      /:5: images\.a\.files\[1\]\.path: \/a\/b is inside \/a, which files\[0\] makes a regular file/],
    ["blobdev without chunks", `images:\n  a:\n    mkfs: { blobdev: true }\n    files:\n      - { path: /a, gen: empty }\n`,
      /:3: images\.a\.mkfs\.blobdev: blobdev: true requires chunkSize/],
    ["bad hole", `images:\n  a:\n    files:\n      - path: /s\n        gen: sparse\n        size: 1MiB\n        seed: 1\n        holes:\n          - { at: 0, size: 2MiB }\n`,
      /:9: images\.a\.files\[0\]\.holes\[0\]: hole ends at 2097152, past the file size 1048576/],
    ["no files", `images:\n  a:\n    mkfs: {}\n`, /images\.a\.files: missing required field \(an image needs files: or source:\)/],
    ["npm version range", `images:\n  a:\n    source: { npm: { package: lodash, version: "^4.17.0" } }\n`,
      /:3: images\.a\.source\.npm\.version: bad version "\^4\.17\.0" \(an exact published version/],
    ["npm bad package name", `images:\n  a:\n    source: { npm: { package: "Lodash!", version: "1.0.0" } }\n`,
      /:3: images\.a\.source\.npm\.package: bad npm package name "Lodash!"/],
  ];
  it.each(cases)("rejects: %s", (_kind, text, re) => {
    const e = errorOf(text);
    expect(e.message).toMatch(re);
    expect(e.message.startsWith(e.file)).toBe(true);
    expect(e.line).toBeGreaterThan(0);
  });

  it("rejects an image name defined in two files, naming both places", () => {
    const first = specFile(ok);
    const e = errorOf(`# other\nimages:\n  a:\n    files:\n      - { path: /y, gen: empty }\n`, [first]);
    expect(e.message).toMatch(new RegExp(`:2: images\\.a: image "a" is already defined at .*s\\d+\\.yaml:3; rename one`));
  });

  it("accepts an npm source (exact version, scoped names too) without fetching anything", () => {
    const specs = loadSpecs([specFile(`images:\n  a:\n    mkfs: { tar: true }\n    source: { npm: { package: "@types/node", version: "22.1.0" } }\n`)]);
    expect(specs.get("a")!.source).toEqual({ npm: { package: "@types/node", version: "22.1.0" } });
  });

  it("resolves same: across files", () => {
    const a = specFile(ok);
    const b = specFile(`images:\n  b:\n    files:\n      - { path: /copy, same: { image: a, path: /x } }\n`);
    const specs = loadSpecs([a, b]);
    expect(specs.get("b")!.entries[0]).toMatchObject({ content: { gen: "random", size: 1024, seed: 1 }, sameAs: { image: "a", path: "/x" } });
  });
});
