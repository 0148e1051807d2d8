// Owns: checking a freshly built image against its manifest with the EROFS reader
// (harness/images/erofs/reader.ts), and filling what only the image knows: superblock features, nid and
// layout of each file. Every path must exist with the right type and size, and every fingerprint read from
// the image must be "sha256:" + the content digest (none where none is expected), and every file's and
// directory's xattrs (besides that digest) must be the tree's, byte for byte; otherwise VerifyError.
import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { bytesToHex } from "@noble/hashes/utils.js";
import { ErofsImage } from "./erofs/reader.ts";
import type { ErofsTools } from "./erofs-utils.ts";
import type { FileRecord, Manifest, XattrRecord } from "./manifest.ts";

export class VerifyError extends Error {
  override name = "VerifyError";
}

/** Superblock feature names as dump.erofs -s prints them (compat then incompat). */
export async function dumpFeatures(tools: ErofsTools, image: string): Promise<string[]> {
  const r = await execa(tools.dump[0], [...tools.dump.slice(1), "-s", image], { env: { LC_ALL: "C" } });
  const feats: string[] = [];
  for (const m of r.stdout.matchAll(/^Filesystem (?:in)?compatible features:[ \t]*(.*)$/gm)) {
    feats.push(...m[1].trim().split(/\s+/).filter(Boolean));
  }
  return feats;
}

/** A fingerprint xattr value as text: "sha256:<hex>" when it has that shape, else hex of the raw bytes. */
export function fingerprintText(value: Uint8Array): string {
  const prefix = new TextDecoder("latin1").decode(value.subarray(0, 7));
  return prefix === "sha256:" && value.length === 39 ? `sha256:${bytesToHex(value.subarray(7))}` : `raw:${bytesToHex(value)}`;
}

/** The xattrs the reader finds on `nid` besides mkfs's own digest of `f`, sorted by name like the tree's. */
export function imageXattrs(img: ErofsImage, nid: number, f: Pick<FileRecord, "type" | "size" | "sha256">): XattrRecord[] {
  const all = img.xattrs(nid).map((x) => ({ name: x.name, hex: bytesToHex(x.value) }));
  const fp = img.superblock.ishareXattrName;
  if (fp !== undefined && f.type === "file" && f.size > 0 && f.sha256) {
    const digest = bytesToHex(new TextEncoder().encode("sha256:")) + f.sha256;
    const i = all.map((x) => x.name === fp && x.hex === digest).lastIndexOf(true);
    if (i >= 0) all.splice(i, 1);
  }
  return all.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** "" when equal, else the first difference in words. */
function xattrDifference(seen: XattrRecord[], want: XattrRecord[]): string {
  const short = (h: string) => (h.length > 32 ? `${h.slice(0, 32)}... (${h.length / 2} bytes)` : h === "" ? "(empty)" : h);
  for (const w of want) {
    const s = seen.find((x) => x.name === w.name);
    if (!s) return `xattr ${w.name} missing from the image`;
    if (s.hex !== w.hex) return `xattr ${w.name} is ${short(s.hex)} in the image, ${short(w.hex)} in the tree`;
  }
  const extra = seen.find((s) => !want.some((w) => w.name === s.name));
  if (extra) return `xattr ${extra.name} in the image but not in the tree`;
  return seen.length === want.length ? "" : `${seen.length} xattrs in the image, ${want.length} in the tree`;
}

/** Fill manifest.features / nid / layout from the image and check it; throws VerifyError listing problems. */
export async function verifyImage(manifest: Manifest, image: string, tools: ErofsTools): Promise<void> {
  manifest.features = await dumpFeatures(tools, image);
  const img = ErofsImage.open(new Uint8Array(await readFile(image)));
  const seen = new Map<string, { nid: number; layout: string; type: string; size: number; fp: string | undefined }>();
  for (const e of img.walk()) {
    const raw = e.inode.type === "file" ? img.fingerprint(e.nid) : undefined;
    seen.set(e.path, { nid: e.nid, layout: e.inode.layout, type: e.inode.type, size: e.inode.size, fp: raw && fingerprintText(raw) });
  }
  const problems: string[] = [];
  // The long xattr prefix table can live in a compressed packed inode (e.g. -Eall-fragments), which the
  // reader does not decode: then the fingerprints are checked by fsck.erofs --xattr-inode-digest instead.
  const fpHidden = img.superblock.ishareXattrPrefixId !== undefined && img.superblock.ishareXattrName === undefined && img.superblock.xattrPrefixes.length === 0;
  if (fpHidden) {
    const r = await execa(tools.fsck[0], [...tools.fsck.slice(1), "--xattr-inode-digest", image], { reject: false, all: true, env: { LC_ALL: "C" } });
    if (r.exitCode !== 0) problems.push(`fsck.erofs --xattr-inode-digest (fingerprint names unreadable here): exit ${r.exitCode}: ${(r.all ?? "").trim().split("\n").slice(-3).join(" / ")}`);
  }
  for (const f of manifest.files) {
    const s = seen.get(f.path);
    if (s && !fpHidden && f.type !== "symlink") {
      const why = xattrDifference(imageXattrs(img, s.nid, f), f.xattrs ?? []);
      if (why) problems.push(`${f.path}: ${why}`);
    }
    if (!s) {
      problems.push(`${f.path}: missing from the image`);
      continue;
    }
    seen.delete(f.path);
    f.nid = s.nid;
    f.layout = s.layout;
    if (s.type !== f.type) problems.push(`${f.path}: is a ${s.type} in the image, a ${f.type} in the tree`);
    if (f.type !== "dir" && s.size !== f.size) problems.push(`${f.path}: size ${s.size} in the image, ${f.size} in the tree`);
    if (!fpHidden && (s.fp ?? null) !== f.fingerprint) {
      problems.push(`${f.path}: fingerprint in the image ${s.fp ?? "(none)"}, expected ${f.fingerprint ?? "(none)"}`);
    }
  }
  for (const p of seen.keys()) problems.push(`${p}: in the image but not in the tree`);
  if (problems.length) {
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
    throw new VerifyError(`image ${manifest.name} does not match its tree:\n  ${problems.slice(0, 10).join("\n  ")}${more}`);
  }
  manifest.verified = true;
}
