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
    const all = loadSpecs(["basic.yaml", "layouts.yaml", "scale.yaml", "xattrs.yaml"].map((f) => path.join(root, f)));
    expect([...all.keys()]).toContain("share-a");
    const copy = all.get("share-b")!.entries.find((e) => e.path === "/srv/mirror/copy-of-big.bin");
    expect(copy).toMatchObject({ kind: "file", content: { gen: "random", size: 8 << 20, seed: 1 } });
    const g = all.get("xattr-b")!.entries.find((e) => e.path === "/other/g.bin");
    expect(g).toMatchObject({ kind: "file", content: { gen: "random", size: 1 << 20, seed: 81 }, xattrs: expect.arrayContaining([{ name: "user.origin", hex: Buffer.from("image b").toString("hex") }]) });
  });

  it("refuses an alias bomb before validating, naming the file without a line; accepts aliases up to the limit", () => {
    // 9^4 strings through 1 + 9 + 81 + 729 alias uses: past 100 uses, before any schema check (the keys a-d are not spec keys)
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]", "images:", "  x:", "    files: *d", ""].join("\n");
    const e = errorOf(bomb);
    expect(e.message).toBe(`${e.file}: YAML aliases expand too far (more than 100 alias uses: an alias bomb?); write the entries out instead`);
    expect(e.line).toBeUndefined();
    const entry = "- { path: /x, gen: random, size: 1KiB, seed: 1 }";
    const fewAliases = `x: &e ${entry.slice(2)}\nimages:\n  a:\n    mkfs: { compress: lz4 }\n    files: [*e]\n`;
    expect(errorOf(fewAliases).message).toMatch(/^\S+:1: x: /); // past the alias check: the unknown key x is reported
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

  // [kind of mistake, spec text, line, field, problem]: the message is exactly `<file>:<line>: <field>: <problem>`.
  const exact: [string, string, number, string, string][] = [
    ["unknown top-level key", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\nimagez: {}\n`, 5, "imagez",
      "unknown key (expected: images)"],
    ["images not a mapping", `images: [a, b]\n`, 1, "images", "must be a mapping of image name to image spec"],
    ["bad image name", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  "b c":\n    files:\n      - { path: /a, gen: empty }\n`, 5, 'images.b c',
      'bad image name (use letters, digits, ".", "_", "-"; at most 64 characters)'],
    ["image not a mapping", `images:\n  a: 3\n`, 2, "images.a", "must be a mapping with mkfs:, files: and optionally source: (or derive:)"],
    ["mkfs not a mapping", `images:\n  a:\n    mkfs: lz4\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs",
      "must be a mapping, e.g. { compress: lz4hc, blockSize: 4096 }"],
    ["bad boolean", `images:\n  a:\n    mkfs:\n      tar: "yes"\n    files:\n      - { path: /a, gen: empty }\n`, 4, "images.a.mkfs.tar",
      'must be true or false, not "yes"'],
    ["bad level", `images:\n  a:\n    mkfs: { compress: lz4hc, level: 1.5 }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.level",
      'bad compression level 1.5 (expected an integer; ranges are listed by "mkfs.erofs --help")'],
    ["bad block size with a unit", `images:\n  a:\n    mkfs: { blockSize: 3KiB }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.blockSize",
      'bad block size "3KiB" (expected one of: 512, 1024, 2048, 4096; x86_64 guests mount at most 4096)'],
    ["level out of range", `images:\n  a:\n    mkfs: { compress: lz4hc, level: 200 }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.level",
      'bad compression level 200 (expected an integer; ranges are listed by "mkfs.erofs --help")'],
    ["level without compressor", `images:\n  a:\n    mkfs:\n      level: 3\n    files:\n      - { path: /a, gen: empty }\n`, 4, "images.a.mkfs.level",
      "a compression level needs a compressor; set compress:"],
    ["bad chunk size", `images:\n  a:\n    mkfs:\n      blockSize: 4KiB\n      chunkSize: 12KiB\n    files:\n      - { path: /a, gen: empty }\n`, 5, "images.a.mkfs.chunkSize",
      'bad value "12KiB" (expected a power of two between the block size (4096) and 1GiB)'],
    ["bad pcluster size", `images:\n  a:\n    mkfs: { compress: lz4, blockSize: 1024, pclusterSize: 1536 }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.pclusterSize",
      "bad value 1536 (expected a multiple of the block size (1024), at most 1MiB)"],
    ["chunks with a compressor", `images:\n  a:\n    mkfs:\n      compress: lz4\n      chunkSize: 8KiB\n    files:\n      - { path: /a, gen: empty }\n`, 5, "images.a.mkfs.chunkSize",
      "chunked files are uncompressed; use compress: none with chunkSize (got compress: lz4)"],
    ["bad fingerprint name", `images:\n  a:\n    mkfs: { fingerprint: "a b" }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.fingerprint",
      'bad xattr name "a b" (letters, digits, ".", "_", "-"), e.g. trusted.erofs.fp'],
    ["bad fingerprint type", `images:\n  a:\n    mkfs: { fingerprint: 3 }\n    files:\n      - { path: /a, gen: empty }\n`, 3, "images.a.mkfs.fingerprint",
      "must be true, false or an xattr name, not 3"],
    ["extra not strings", `images:\n  a:\n    mkfs:\n      extra: [-E, 3]\n    files:\n      - { path: /a, gen: empty }\n`, 4, "images.a.mkfs.extra",
      "must be a list of strings (extra mkfs.erofs arguments)"],
    ["files not a list", `images:\n  a:\n    files: { path: /a }\n`, 3, "images.a.files", "must be a list of file entries"],
    ["entry not a mapping", `images:\n  a:\n    files:\n      - /a\n`, 4, "images.a.files[0]",
      "must be a mapping like { path: /x, gen: random, size: 1MiB, seed: 1 }"],
    ["missing path", `images:\n  a:\n    files:\n      - { gen: empty }\n`, 4, "images.a.files[0].path",
      "missing required field path (an absolute path like /data/x.bin)"],
    ["two kinds", `images:\n  a:\n    files:\n      - { path: /a, gen: empty, symlink: /b }\n`, 4, "images.a.files[0]", "give only one of gen, symlink"],
    ["unknown entry key", `images:\n  a:\n    files:\n      - path: /a\n        gen: random\n        size: 1\n        seed: 1\n        sede: 2\n`, 8, "images.a.files[0].sede",
      'unknown key "sede" (expected one of: gen, path, mode, xattrs, size, seed)'],
    ["bad mode", `images:\n  a:\n    files:\n      - { path: /a, gen: empty, mode: 755 }\n`, 4, "images.a.files[0].mode",
      'bad mode 755 (expected a quoted octal string like "0755")'],
    ["bad seed", `images:\n  a:\n    files:\n      - { path: /a, gen: random, size: 1, seed: -1 }\n`, 4, "images.a.files[0].seed",
      "bad seed -1 (expected an integer from 0 to 4294967295)"],
    ["bad depth", `images:\n  a:\n    files:\n      - { path: /d, gen: deep-dirs, depth: 0 }\n`, 4, "images.a.files[0].depth",
      "bad depth 0 (expected an integer from 1 to 500)"],
    ["bad many-files content", `images:\n  a:\n    files:\n      - { path: /m, gen: many-files, count: 2, size: 1, seed: 1, content: zeros }\n`, 4, "images.a.files[0].content",
      'must be random or text, not "zeros"'],
    ["empty symlink target", `images:\n  a:\n    files:\n      - { path: /l, symlink: "" }\n`, 4, "images.a.files[0].symlink", "must be a non-empty string"],
    ["unknown symlink key", `images:\n  a:\n    files:\n      - { path: /l, symlink: /x, mode: "0644" }\n`, 4, "images.a.files[0].mode",
      'unknown key "mode" (expected one of: path, symlink)'],
    ["hardlink to a directory", `images:\n  a:\n    files:\n      - { path: /d, gen: dir }\n      - { path: /h, hardlink: /d }\n`, 5, "images.a.files[1].hardlink",
      "hardlink target /d is a dir, not a regular file"],
    ["bad same", `images:\n  a:\n    files:\n      - { path: /a, same: /b }\n`, 4, "images.a.files[0].same",
      "must be { image: NAME, path: /file } (image defaults to this one)"],
    ["sparse without holes", `images:\n  a:\n    files:\n      - { path: /s, gen: sparse, size: 1MiB, seed: 1 }\n`, 4, "images.a.files[0]",
      "sparse needs exactly one of holes: [{ at, size }, ...] or pattern: { period, data }"],
    ["overlapping holes", `images:\n  a:\n    files:\n      - path: /s\n        gen: sparse\n        size: 1MiB\n        seed: 1\n        holes:\n          - { at: 0, size: 8KiB }\n          - { at: 4KiB, size: 8KiB }\n`,
      10, "images.a.files[0].holes[1]", "holes must be sorted and not overlap"],
    ["bad pattern", `images:\n  a:\n    files:\n      - path: /s\n        gen: sparse\n        size: 1MiB\n        seed: 1\n        pattern: { period: 4KiB, data: 8KiB }\n`,
      8, "images.a.files[0].pattern", "needs sizes period > data, e.g. { period: 1MiB, data: 64KiB }"],
    ["bad source", `images:\n  a:\n    source: { dir: ./x, tar: ./y.tar }\n`, 3, "images.a.source",
      "must be { dir: ./path }, { tar: ./file.tar } (relative to the spec file) or { npm: { package: NAME, version: X.Y.Z } }"],
    ["unknown derive argument", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive: { image: a, mutation: emptyFingerprint, args: { path: /a, pth: /b } }\n`,
      6, "images.d.derive.args.pth", 'unknown key "pth" (expected one of: path, fromPath, value, id, valueSize, domainId, keyLayout, seed, method)'],
    ["bad derive key layout", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive:\n      image: a\n      mutation: collideFingerprints\n      args: { path: /a, domainId: x, keyLayout: nul }\n`,
      9, "images.d.derive.args.keyLayout", 'unknown key layout "nul" (expected one of: value-domain, domain-nul-value)'],
    ["bad derive id", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive: { image: a, mutation: badIsharePrefixId, args: { id: 256 } }\n`,
      6, "images.d.derive.args.id", "bad id 256 (expected an integer from 0 to 255)"],
    ["bad derive value", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive: { image: a, mutation: setFingerprintValue, args: { path: /a, value: { bytes: 1 } } }\n`,
      6, "images.d.derive.args.value", 'must be { hex: "..." }, { text: "..." } or { fingerprintOf: /path, image: NAME, prefix: "...", suffix: "..." }'],
    ["missing derive value image", `images:\n  a:\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive: { image: a, mutation: setFingerprintValue, args: { path: /a, value: { fingerprintOf: /a, image: zz } } }\n`,
      6, "images.d.derive.args.value.image", 'missing image "zz" (known: a, d)'],
    ["derive from an image without fingerprints", `images:\n  a:\n    mkfs: { fingerprint: false }\n    files:\n      - { path: /a, gen: empty }\n  d:\n    derive: { image: a, mutation: emptyFingerprint, args: { path: /a } }\n`,
      7, "images.d.derive.image", 'base image "a" has no fingerprints (fingerprint: false); mutation emptyFingerprint needs them'],
  ];
  it.each(exact)("names file, line and field: %s", (_kind, text, line, field, problem) => {
    const e = errorOf(text);
    expect({ line: e.line, field: e.field, problem: e.problem }).toEqual({ line, field, problem });
    expect(e.message).toBe(`${e.file}:${line}: ${field}: ${problem}`);
    expect(e.file).toMatch(/s\d+\.yaml$/);
  });

  it("reports a misspelt key rather than the missing field it leaves behind", () => {
    let e = errorOf(`images:\n  a:\n    mkfs: { compress: lz4 }\n    flies:\n      - { path: /a, gen: empty }\n`);
    expect(e.message).toMatch(/:4: images\.a\.flies: unknown key "flies" \(expected one of: mkfs, files, source\)$/);
    e = errorOf(`images:\n  a:\n    files:\n      - path: /a\n        gen: random\n        sise: 1KiB\n        seed: 1\n`);
    expect(e.message).toMatch(/:6: images\.a\.files\[0\]\.sise: unknown key "sise" \(expected one of: gen, path, mode, xattrs, size, seed\)$/);
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
