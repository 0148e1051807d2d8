// Owns: tests of the spec's extended attributes (harness/images/spec-xattrs.ts): the accepted forms of a
// value (text, hex, base64, empty) normalized to hex, the limits at their exact boundaries (name 255 bytes,
// value 65535 bytes, inline area 262148 bytes, prefixes 255 bytes / 128 per image), and a file:line:
// field: problem message for each kind of mistake.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSpecs, SpecError, type Entry } from "../../harness/images/spec.ts";
import { inlineXattrSize, XATTR_INLINE_MAX } from "../../harness/images/spec-xattrs.ts";

const dir = mkdtempSync(path.join(tmpdir(), "pcshare-spec-xattrs-test-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function load(text: string) {
  const f = path.join(dir, `s${n++}.yaml`);
  writeFileSync(f, text);
  return loadSpecs([f]);
}
function errorOf(text: string): SpecError {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error("spec was accepted");
}
/** A spec with one file carrying `xattrs` (YAML flow text) and optional mkfs keys. */
const spec = (xattrs: string, mkfs = "{}") => `images:\n  a:\n    mkfs: ${mkfs}\n    files:\n      - path: /f\n        gen: random\n        size: 1KiB\n        seed: 1\n        xattrs:\n${xattrs}`;
const b64 = (len: number) => Buffer.alloc(len, 0xab).toString("base64");
const xattrsOf = (text: string) => (load(text).get("a")!.entries[0] as Extract<Entry, { kind: "file" }>).xattrs;

describe("xattrs in image specs", () => {
  it("takes text, hex, base64 and empty values in any namespace, as hex bytes", () => {
    const x = xattrsOf(spec(`          - { name: user.t, value: "héllo" }\n          - { name: trusted.h, hex: "00FF" }\n          - { name: security.b, base64: "AAEC" }\n          - { name: user.e, value: "" }\n          - { name: user.eh, hex: "" }\n`));
    expect(x).toEqual([
      { name: "user.t", hex: "68c3a96c6c6f" },
      { name: "trusted.h", hex: "00ff" },
      { name: "security.b", hex: "000102" },
      { name: "user.e", hex: "" },
      { name: "user.eh", hex: "" },
    ]);
  });

  it("accepts the limits exactly: a 255-byte name, a 65535-byte value, three such values on one file", () => {
    const name = `user.${"n".repeat(250)}`;
    const x = xattrsOf(spec(`          - { name: ${name}, base64: "${b64(65535)}" }\n          - { name: trusted.b, base64: "${b64(65535)}" }\n          - { name: security.c, base64: "${b64(65535)}" }\n`));
    expect(x!.map((v) => [Buffer.byteLength(v.name), v.hex.length / 2])).toEqual([[255, 65535], [9, 65535], [10, 65535]]);
  });

  it("makes seeded random values of up to 65535 bytes, the same for the same seed", () => {
    const x = xattrsOf(spec(`          - { name: user.r, random: 65535, seed: 7 }\n          - { name: user.s, random: 16, seed: 7 }\n          - { name: user.t, random: 16, seed: 8 }\n          - { name: user.z, random: 0, seed: 8 }\n`))!;
    expect(x.map((v) => v.hex.length / 2)).toEqual([65535, 16, 16, 0]);
    expect(x[0].hex.startsWith(x[1].hex)).toBe(true);
    expect(x[2].hex).not.toBe(x[1].hex);
  });

  it("takes xattrs on directories and same: entries, and long prefixes up to 255 bytes", () => {
    const long = `user.${"p".repeat(249)}.`;
    const specs = load(`images:\n  a:\n    mkfs: { xattrPrefixes: [user.my.app., "${long}"] }\n    files:\n      - { path: /d, gen: dir, xattrs: [{ name: user.d, value: x }] }\n      - { path: /f, gen: random, size: 1, seed: 1 }\n      - { path: /g, same: { path: /f }, xattrs: [{ name: user.g, value: y }] }\n`);
    const a = specs.get("a")!;
    expect(a.mkfs.xattrPrefixes).toEqual(["user.my.app.", long]);
    expect(a.entries.map((e) => ("xattrs" in e ? e.xattrs : undefined))).toEqual([[{ name: "user.d", hex: "78" }], undefined, [{ name: "user.g", hex: "79" }]]);
  });

  it("counts the inline area as mkfs.erofs lays it out (entry = 4 + name after prefix + value, 4-aligned)", () => {
    expect(inlineXattrSize([], [], false)).toBe(12);
    expect(inlineXattrSize([], [], true)).toBe(12 + 44);
    expect(inlineXattrSize([{ name: "user.ab", hex: "00" }], [], false)).toBe(12 + 8);
    expect(inlineXattrSize([{ name: "user.my.app.x", hex: "" }], ["user.my.app."], false)).toBe(12 + 8);
    // four 65535-byte values overflow the 16-bit i_xattr_icount; three fit
    const v = { hex: "ab".repeat(65535) };
    expect(inlineXattrSize(["user.a", "user.b", "user.c"].map((name) => ({ name, ...v })), [], true)).toBeLessThanOrEqual(XATTR_INLINE_MAX);
    expect(inlineXattrSize(["user.a", "user.b", "user.c", "user.d"].map((name) => ({ name, ...v })), [], false)).toBeGreaterThan(XATTR_INLINE_MAX);
  });

  // [kind of mistake, spec text, line, field, problem]
  const exact: [string, string, number, string, string][] = [
    ["value one byte too long", spec(`          - { name: user.v, value: x }\n          - { name: user.big, base64: "${b64(65536)}" }\n`), 11, "images.a.files[0].xattrs[1].base64",
      "value is 65536 bytes, more than 65535 (EROFS e_value_size is 16 bits; mkfs.erofs would write a broken image)"],
    ["name one byte too long", spec(`          - { name: user.${"n".repeat(251)}, value: x }\n`), 10, "images.a.files[0].xattrs[0].name",
      "xattr name is 256 bytes, more than 255 (Linux XATTR_NAME_MAX); shorten it"],
    ["no namespace", spec(`          - { name: erofs.fingerprint.v1, value: x }\n`), 10, "images.a.files[0].xattrs[0].name",
      'bad xattr name "erofs.fingerprint.v1": expected a name of 1 to 255 bytes in one of the namespaces user., trusted., security., e.g. user.comment (the host cannot set names outside them)'],
    ["namespace alone", spec(`          - { name: user., value: x }\n`), 10, "images.a.files[0].xattrs[0].name",
      'bad xattr name "user.": expected a name of 1 to 255 bytes in one of the namespaces user., trusted., security., e.g. user.comment (the host cannot set names outside them)'],
    ["ACL namespace", spec(`          - { name: system.posix_acl_access, hex: "02" }\n`), 10, "images.a.files[0].xattrs[0].name",
      'bad xattr name "system.posix_acl_access": system.* (ACLs) is not supported; use user., trusted., security.'],
    ["duplicate name", spec(`          - { name: user.a, value: x }\n          - { name: user.a, value: y }\n`), 11, "images.a.files[0].xattrs[1].name",
      "duplicate xattr name user.a (also xattrs[0]); remove one"],
    ["two values", spec(`          - { name: user.a, value: x, hex: "00" }\n`), 10, "images.a.files[0].xattrs[0]", "give only one of value, hex"],
    ["no value", spec(`          - { name: user.a }\n`), 10, "images.a.files[0].xattrs[0]",
      'missing value: must be { name: user.x, value: "text" }, { name: user.x, hex: "00ff" }, { name: user.x, base64: "AP8=" } or { name: user.x, random: BYTES, seed: N } (empty values allowed)'],
    ["random value one byte too long", spec(`          - { name: user.r, random: 65536, seed: 1 }\n`), 10, "images.a.files[0].xattrs[0].random",
      "value is 65536 bytes, more than 65535 (EROFS e_value_size is 16 bits; mkfs.erofs would write a broken image)"],
    ["random value without seed", spec(`          - { name: user.r, random: 10 }\n`), 10, "images.a.files[0].xattrs[0].seed",
      "missing required field seed for random: (an integer from 0 to 4294967295)"],
    ["missing name", spec(`          - { value: x }\n`), 10, "images.a.files[0].xattrs[0].name",
      "missing required field name (a name of 1 to 255 bytes in one of the namespaces user., trusted., security., e.g. user.comment)"],
    ["odd hex", spec(`          - { name: user.a, hex: "abc" }\n`), 10, "images.a.files[0].xattrs[0].hex", "must be an even number of hex digits (quote it)"],
    ["bad base64", spec(`          - { name: user.a, base64: "a*==" }\n`), 10, "images.a.files[0].xattrs[0].base64", "must be standard base64 (A-Z a-z 0-9 + /, padded with =)"],
    ["value not a string", spec(`          - { name: user.a, value: 12 }\n`), 10, "images.a.files[0].xattrs[0].value", "must be a string (quote it), not 12; for bytes use hex: or base64:"],
    ["unknown xattr key", spec(`          - { name: user.a, value: x, flags: 1 }\n`), 10, "images.a.files[0].xattrs[0].flags", 'unknown key "flags" (expected one of: name, value)'],
    ["xattrs not a list", spec(`            user.a: x\n`), 10, "images.a.files[0].xattrs", "must be a list of { name, value | hex | base64 }"],
    ["inline area overflow", spec(["a", "b", "c", "d"].map((k) => `          - { name: user.${k}, base64: "${b64(65535)}" }\n`).join("")), 9, "images.a.files[0].xattrs",
      "xattrs of /f take 262216 bytes inline, more than 262148 (EROFS i_xattr_icount is 16 bits; mkfs.erofs would write a broken image); move some to another file"],
    ["xattrs on a symlink", `images:\n  a:\n    files:\n      - { path: /s, symlink: x, xattrs: [] }\n`, 4, "images.a.files[0].xattrs", 'unknown key "xattrs" (expected one of: path, symlink)'],
    ["xattrs on many-files", `images:\n  a:\n    files:\n      - { path: /m, gen: many-files, count: 2, size: 1, seed: 1, xattrs: [] }\n`, 4, "images.a.files[0].xattrs",
      'unknown key "xattrs" (expected one of: gen, path, mode, count, size, seed, content, perDir)'],
    ["prefix without namespace", `images:\n  a:\n    mkfs: { xattrPrefixes: [my.app.] }\n    files:\n      - { path: /f, gen: empty }\n`, 3, "images.a.mkfs.xattrPrefixes[0]",
      'bad prefix "my.app.": must start with one of user., trusted., security. and add to it, e.g. user.my.app.'],
    ["prefix one byte too long", `images:\n  a:\n    mkfs: { xattrPrefixes: [user.${"p".repeat(251)}] }\n    files:\n      - { path: /f, gen: empty }\n`, 3, "images.a.mkfs.xattrPrefixes[0]",
      "prefix is 256 bytes, more than 255 (mkfs.erofs refuses longer ones)"],
    ["duplicate prefix", `images:\n  a:\n    mkfs:\n      xattrPrefixes:\n        - user.x.\n        - user.x.\n    files:\n      - { path: /f, gen: empty }\n`, 6, "images.a.mkfs.xattrPrefixes[1]", 'duplicate prefix "user.x." (also [0])'],
    ["too many prefixes", `images:\n  a:\n    mkfs:\n      xattrPrefixes: [${Array.from({ length: 128 }, (_, i) => `user.p${i}.`).join(", ")}]\n    files:\n      - { path: /f, gen: empty }\n`, 4, "images.a.mkfs.xattrPrefixes",
      "128 prefixes, more than 127 (an image holds 128, one is the fingerprint's)"],
    ["prefixes not a list", `images:\n  a:\n    mkfs: { xattrPrefixes: user.x. }\n    files:\n      - { path: /f, gen: empty }\n`, 3, "images.a.mkfs.xattrPrefixes", "must be a list of long xattr name prefixes, e.g. [user.my.app.]"],
  ];
  it.each(exact)("names file, line and field: %s", (_kind, text, line, field, problem) => {
    const e = errorOf(text);
    expect({ line: e.line, field: e.field, problem: e.problem }).toEqual({ line, field, problem });
    expect(e.message).toBe(`${e.file}:${line}: ${field}: ${problem}`);
  });

  it("counts the fingerprint of a same: entry, and none for an empty file or an image without fingerprints", () => {
    // 12 + 44 (fingerprint) + three 65540-byte entries + one of 4 + 1 (name "d") + 65467 value bytes = 262148: exactly full
    const fill = (v: number) => `          - { name: user.a, random: 65535, seed: 1 }\n          - { name: user.b, random: 65535, seed: 1 }\n          - { name: user.c, random: 65535, seed: 1 }\n          - { name: user.d, random: ${v}, seed: 1 }\n`;
    const same = (v: number, mkfs = "{}") => `images:\n  a:\n    mkfs: ${mkfs}\n    files:\n      - { path: /f, gen: random, size: 1, seed: 1 }\n      - path: /g\n        same: { path: /f }\n        xattrs:\n${fill(v)}`;
    const empty = (v: number) => `images:\n  a:\n    files:\n      - path: /g\n        gen: empty\n        xattrs:\n${fill(v)}`;
    expect(load(same(65467)).get("a")!.entries).toHaveLength(2);
    expect(errorOf(same(65468)).problem).toMatch(/^xattrs of \/g take 262152 bytes inline, more than 262148/);
    expect(load(same(65511, "{ fingerprint: false }")).get("a")!.entries).toHaveLength(2);
    expect(load(empty(65511)).get("a")!.entries).toHaveLength(1);
    expect(errorOf(empty(65512)).problem).toMatch(/^xattrs of \/g take 262152 bytes inline/);
  });

  it("allows 128 prefixes when the image has no fingerprints", () => {
    const list = Array.from({ length: 128 }, (_, i) => `user.p${i}.`).join(", ");
    expect(load(`images:\n  a:\n    mkfs: { fingerprint: false, xattrPrefixes: [${list}] }\n    files:\n      - { path: /f, gen: empty }\n`).get("a")!.mkfs.xattrPrefixes).toHaveLength(128);
  });
});
