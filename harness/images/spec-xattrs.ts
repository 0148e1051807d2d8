// Owns: the image spec's extended attributes: a file's or directory's `xattrs:` list (name plus a value as
// text, hex, base64 or seeded random bytes), the image-level long name prefixes (mkfs `xattrPrefixes:`), and the limits both must
// respect, checked against the whole image (its fingerprint xattr name and prefixes) so that mkfs.erofs
// never silently writes a broken image. Limits and where they come from:
// - a name is at most 255 bytes (Linux XATTR_NAME_MAX; EROFS e_name_len is a u8 holding the name after its
//   prefix, and the kernel's getxattr returns ERANGE past EROFS_NAME_LEN = 255);
// - a value is at most 65535 bytes: EROFS e_value_size is a __le16 (erofs_fs.h), and mkfs.erofs 1.9.x stores
//   cpu_to_le16(len) unchecked (lib/xattr.c, write of .e_value_size), so a 65536-byte value (which Linux
//   accepts, XATTR_SIZE_MAX) becomes size 0 and fsck.erofs reports corruption;
// - an inode's inline xattr area is at most 12 + 4 * 65534 = 262148 bytes (i_xattr_icount is a __le16;
//   one byte more and mkfs.erofs wraps it to 0: the inode silently loses every xattr, fingerprint included);
// - a long prefix is at most 255 bytes (erofs_xattr_insert_name_prefix: strlen > UINT8_MAX is EOVERFLOW) and
//   an image holds at most 128 of them (index 0x00..0x7f), one of which the fingerprint takes.
import { z } from "zod";
import { byKey, problem, says, show, strict, type Ctx } from "./spec-blocks.ts";
import { keystream } from "./generate.ts";
import type { Entry, MkfsSpec, XattrSpec } from "./spec-types.ts";

export const XATTR_NAME_MAX = 255;
export const XATTR_VALUE_MAX = 65535;
export const XATTR_INLINE_MAX = 12 + 4 * 65534;
export const XATTR_PREFIX_MAX = 255;
export const XATTR_PREFIX_COUNT_MAX = 128;
/** The namespaces a build can set on its file tree (system.* holds ACLs, which have their own format). */
export const XATTR_NAMESPACES = ["user.", "trusted.", "security."] as const;
/** mkfs.erofs's default fingerprint xattr name (no namespace: hosts cannot set it). */
const DEFAULT_FP_NAME = "erofs.fingerprint.v1";

const bytes = (s: string) => Buffer.byteLength(s);
const NAME_RULE = `a name of 1 to ${XATTR_NAME_MAX} bytes in one of the namespaces ${XATTR_NAMESPACES.join(", ")}, e.g. user.comment`;

const xattrName = z.string(says(() => `must be ${NAME_RULE}`, `missing required field name (${NAME_RULE})`)).superRefine((n, ctx) => {
  if (n.includes("\0")) problem(ctx, n, `bad xattr name ${show(n)}: NUL is not allowed in a name`);
  else if (bytes(n) > XATTR_NAME_MAX) problem(ctx, n, `xattr name is ${bytes(n)} bytes, more than ${XATTR_NAME_MAX} (Linux XATTR_NAME_MAX); shorten it`);
  else if (n.startsWith("system.")) problem(ctx, n, `bad xattr name ${show(n)}: system.* (ACLs) is not supported; use ${XATTR_NAMESPACES.join(", ")}`);
  else if (!XATTR_NAMESPACES.some((ns) => n.startsWith(ns) && n.length > ns.length)) {
    problem(ctx, n, `bad xattr name ${show(n)}: expected ${NAME_RULE} (the host cannot set names outside them)`);
  }
});

const tooLong = (n: number) => `value is ${n} bytes, more than ${XATTR_VALUE_MAX} (EROFS e_value_size is 16 bits; mkfs.erofs would write a broken image)`;
/** A value as lowercase hex, or a problem when longer than XATTR_VALUE_MAX. */
const valueOf = (b: Buffer, ctx: Ctx, key: string) => (b.length > XATTR_VALUE_MAX ? problem(ctx, b.length, tooLong(b.length), [key]) : b.toString("hex"));
const VALUE_SHAPE = 'must be { name: user.x, value: "text" }, { name: user.x, hex: "00ff" }, { name: user.x, base64: "AP8=" } or { name: user.x, random: BYTES, seed: N } (empty values allowed)';
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** One xattr, told apart by how its value is written. */
export const xattrSchema = byKey(
  {
    value: strict({ name: xattrName, value: z.string(says((v) => `must be a string (quote it), not ${show(v)}; for bytes use hex: or base64:`)) }).transform(
      (v, ctx): XattrSpec => ({ name: v.name, hex: valueOf(Buffer.from(v.value, "utf8"), ctx, "value") }),
    ),
    hex: strict({ name: xattrName, hex: z.string(says(() => 'must be a quoted string of hex digits, e.g. "00ff"')).regex(/^(?:[0-9a-fA-F]{2})*$/, "must be an even number of hex digits (quote it)") }).transform(
      (v, ctx): XattrSpec => ({ name: v.name, hex: valueOf(Buffer.from(v.hex, "hex"), ctx, "hex") }),
    ),
    base64: strict({ name: xattrName, base64: z.string(says(() => "must be a quoted base64 string")).regex(B64, "must be standard base64 (A-Z a-z 0-9 + /, padded with =)") }).transform(
      (v, ctx): XattrSpec => ({ name: v.name, hex: valueOf(Buffer.from(v.base64, "base64"), ctx, "base64") }),
    ),
    random: strict({
      name: xattrName,
      random: z.int(says((v) => `bad random ${show(v)} (expected a byte count from 0 to ${XATTR_VALUE_MAX})`)).min(0, says((v) => `bad random ${show(v)} (expected a byte count from 0 to ${XATTR_VALUE_MAX})`)),
      seed: z.int(says(() => "missing required field seed for random: (an integer from 0 to 4294967295)", "missing required field seed for random: (an integer from 0 to 4294967295)")).min(0).max(2 ** 32 - 1),
    }).transform((v, ctx): XattrSpec => {
      if (v.random > XATTR_VALUE_MAX) return problem(ctx, v.random, tooLong(v.random), ["random"]);
      return { name: v.name, hex: Buffer.concat([...keystream(`xattr:${v.seed}`, 0, v.random)]).toString("hex") };
    }),
  },
  { notObject: VALUE_SHAPE, none: `missing value: ${VALUE_SHAPE}`, many: (present) => `give only one of ${present.join(", ")}` },
) as z.ZodType<XattrSpec>;

/** A file's or directory's xattrs; a name may appear once. */
export const xattrListSchema = z
  .array(xattrSchema, says(() => "must be a list of { name, value | hex | base64 }"))
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((x, i) => {
      const j = seen.get(x.name);
      if (j !== undefined) problem(ctx, x.name, `duplicate xattr name ${x.name} (also xattrs[${j}]); remove one`, [i, "name"]);
      seen.set(x.name, i);
    });
  })
  .optional();

/** mkfs `xattrPrefixes:`: long name prefixes, each passed as --xattr-prefix= in order. */
export const xattrPrefixesSchema = z
  .array(
    z.string(says(() => "must be a string like user.my.app.")).superRefine((p, ctx) => {
      if (p.includes("\0")) problem(ctx, p, "NUL is not allowed in a prefix");
      else if (bytes(p) > XATTR_PREFIX_MAX) problem(ctx, p, `prefix is ${bytes(p)} bytes, more than ${XATTR_PREFIX_MAX} (mkfs.erofs refuses longer ones)`);
      else if (!XATTR_NAMESPACES.some((ns) => p.startsWith(ns) && p.length > ns.length)) {
        problem(ctx, p, `bad prefix ${show(p)}: must start with one of ${XATTR_NAMESPACES.join(", ")} and add to it, e.g. user.my.app.`);
      }
    }),
    says(() => "must be a list of long xattr name prefixes, e.g. [user.my.app.]"),
  )
  .superRefine((list, ctx) => {
    list.forEach((p, i) => {
      if (list.indexOf(p) !== i) problem(ctx, p, `duplicate prefix ${show(p)} (also [${list.indexOf(p)}])`, [i]);
    });
  })
  .optional();

/** Bytes of the inline xattr area mkfs.erofs gives an inode with these xattrs (all inline, none shared). */
export function inlineXattrSize(xattrs: XattrSpec[], prefixes: string[], withFingerprint: boolean): number {
  const entry = (suffix: number, value: number) => (4 + suffix + value + 3) & ~3;
  let size = 12 + (withFingerprint ? entry(0, 39) : 0);
  for (const x of xattrs) {
    // mkfs uses the first long prefix the name starts with; otherwise the short namespace prefix.
    const long = prefixes.find((p) => x.name.startsWith(p));
    const short = XATTR_NAMESPACES.find((ns) => x.name.startsWith(ns)) ?? "";
    size += entry(bytes(x.name) - bytes(long ?? short), x.hex.length / 2);
  }
  return size;
}

/**
 * Checks that need the whole image: prefixes fit beside the fingerprint's, and every inode's xattrs fit
 * its inline area. `at(i)` is the path of entry i (for the problem's line).
 */
export function checkImageXattrs(mkfs: MkfsSpec, entries: Entry[], ctx: Ctx, at: (i: number) => PropertyKey[]): void {
  const prefixes = mkfs.xattrPrefixes ?? [];
  const room = XATTR_PREFIX_COUNT_MAX - (mkfs.fingerprint === null ? 0 : 1);
  if (prefixes.length > room) {
    problem(ctx, prefixes, `${prefixes.length} prefixes, more than ${room} (an image holds ${XATTR_PREFIX_COUNT_MAX}${mkfs.fingerprint === null ? "" : ", one is the fingerprint's"})`, ["mkfs", "xattrPrefixes"]);
  }
  const fpName = mkfs.fingerprint === null ? undefined : mkfs.fingerprint || DEFAULT_FP_NAME;
  entries.forEach((e, i) => {
    if ((e.kind !== "file" && e.kind !== "dir") || !e.xattrs?.length) return;
    // a same: entry's content is resolved later; count its fingerprint, as for any file that may have content
    const fp = fpName !== undefined && e.kind === "file" && (e.sameAs !== undefined || e.content.gen !== "empty");
    const size = inlineXattrSize(e.xattrs, prefixes, fp);
    if (size > XATTR_INLINE_MAX) {
      problem(ctx, e.xattrs.length, `xattrs of ${e.path} take ${size} bytes inline, more than ${XATTR_INLINE_MAX} (EROFS i_xattr_icount is 16 bits; mkfs.erofs would write a broken image); move some to another file`, [...at(i), "xattrs"], true);
    }
  });
}
