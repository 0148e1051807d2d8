// Owns: the model of the documented page-cache sharing semantics that explore checks a kernel against.
// Given the images (files with size, sha256, fingerprint, layout) and the mounts a program made, it
// predicts each observation: whether a mount or remount succeeds (or which errno), which pairs of files
// must share page frames and which must not, that every read returns the source's bytes, and when an
// unmount is refused. Where no documented rule decides, the prediction is "unspecified": the executor
// records what it saw as a difference, never as a failure. The executor feeds back what really
// happened (commit*), so the model follows the kernel's state and predicts the next step from it.
//
// Sources of the rules (each prediction names its rule):
// - Documentation/filesystems/erofs.rst (7.2): "inode_share: Enable inode page sharing for this
//   filesystem. Inodes with identical content within the same domain ID can share the page cache";
//   "domain_id=%s: Filesystems sharing the same domain ID can share page cache across mounts when inode
//   page sharing is enabled".
// - The kernel's own messages, which the catalog (cases/options.ts, CASES.md O1-O5) states as what a
//   correct kernel does: inode_share without domain_id is EINVAL; an image without ishare xattrs turns
//   inode_share off; a remount cannot change domain_id ("ignoring reconfiguration for domain_id.").
// - The sharing key (FACTS.md, CASES.md A1/D3): same domain, same fingerprint value, same i_size and the
//   same address-space operations (uncompressed data on a block device and on a backing file differ;
//   compressed data is read the same way on both).
import type { Backing, FileRef, MountOptionSet } from "./program.ts";
import { pick } from "./program.ts";

export type Tri = "yes" | "no" | "unspecified";

export interface ModelFile {
  path: string;
  size: number;
  sha256: string;
  /** The fingerprint value the image carries ("sha256:<hex>"), or null. */
  fingerprint: string | null;
  layout: string | null;
  /** Hardlink: the first name of the same inode. */
  linkOf?: string;
}

export interface ModelImage {
  name: string;
  /** Regular files, in manifest order (file indexes of operations resolve over this list, non-empty ones). */
  files: ModelFile[];
  /** The image has ishare xattrs (mkfs --xattr-inode-digest): at least one file carries a fingerprint. */
  fingerprinted: boolean;
}

/** What a prediction says: an exact expected value, or that no documented rule decides. */
export interface Prediction<T> {
  expect: T | "unspecified";
  /** The rule that decided it (or why nothing does). */
  rule: string;
}

/** The result of a call: "ok", an errno name, or "refused" (any errno). */
export type CallResult = string;

interface Superblock {
  id: number;
  image: ModelImage;
  backing: Backing;
  domain?: string;
  sharing: Tri;
  /** Mounts (attached or detached) and holds that keep it alive. */
  refs: number;
}

export interface ModelMount {
  id: number;
  sb: Superblock;
  /** Holds (open + mapped files) on this mount that are still alive. */
  holds: number;
  /** A concurrent reader was started on it (it may still have a file open). */
  reader: boolean;
}

const RULE_DOC_SHARE = "erofs.rst: inodes with identical content within the same domain ID share the page cache when inode_share is on";

/** The files an operation's file index ranges over: the image's non-empty regular files. */
export function readableFiles(image: ModelImage): ModelFile[] {
  return image.files.filter((f) => f.size > 0);
}

/** Address-space operations a file's data is read with: compressed data is the same on any backing. */
function aopsOf(f: ModelFile, backing: Backing): string {
  return f.layout?.startsWith("compressed") ? "compressed" : backing;
}

/** Parse a mount data string the way erofs's option table would (only what the model needs). */
function parseData(data: string): { share: boolean; domain?: string; unknown: string[] } {
  const out: { share: boolean; domain?: string; unknown: string[] } = { share: false, unknown: [] };
  for (const tok of data.split(",").filter(Boolean)) {
    if (tok === "inode_share") out.share = true;
    else if (tok.startsWith("domain_id=")) out.domain = tok.slice("domain_id=".length);
    else out.unknown.push(tok);
  }
  return out;
}

export class SharingModel {
  /** Attached mounts, in mount order (mount slots resolve over this list). */
  readonly mounts: ModelMount[] = [];
  private readonly superblocks: Superblock[] = [];
  private nextId = 1;

  constructor(readonly images: readonly ModelImage[]) {}

  // ---- predictions ----

  /** What mount(2) of `image` with `opts` returns, and whether sharing is then in effect on it. */
  predictMount(image: number, backing: Backing, opts: MountOptionSet): { result: Prediction<CallResult>; sharing: Prediction<Tri> } {
    const img = pick(this.images, image)!;
    const p = parseData(opts.raw ?? [opts.share && "inode_share", opts.domain !== undefined && `domain_id=${opts.domain}`].filter(Boolean).join(","));
    const reused = backing === "bdev" ? this.bdevSuperblock(img) : undefined;
    if (p.unknown.length) return { result: { expect: "refused", rule: `unknown mount option ${p.unknown.join(",")}` }, sharing: { expect: "no", rule: "not mounted" } };
    if (p.domain === "") return { result: { expect: "refused", rule: "domain_id= with an empty value is a bad value (O1)" }, sharing: { expect: "no", rule: "not mounted" } };
    if (reused) {
      // The same block device again: the same superblock, its options; whether the new options are checked is not documented.
      const fillSuperRefuses = p.share && p.domain === undefined;
      return {
        result: fillSuperRefuses ? { expect: "unspecified", rule: "a second mount of a mounted block device reuses its superblock; whether options it would refuse are checked is not documented" } : { expect: "ok", rule: "a second mount of a mounted block device reuses its superblock" },
        sharing: { expect: reused.sharing, rule: "the reused superblock keeps its own options (the new ones are ignored)" },
      };
    }
    if (p.share && p.domain === undefined) return { result: { expect: "EINVAL", rule: "domain_id is needed when inode_share is on (O1)" }, sharing: { expect: "no", rule: "not mounted" } };
    return { result: { expect: "ok", rule: "valid options" }, sharing: this.sharingFor(img, p.share, p.domain) };
  }

  /** What remount with `data` returns on the mount at `slot`, and the sharing state after it. */
  predictRemount(slot: number, data: string): { result: Prediction<CallResult>; sharing: Prediction<Tri> } | undefined {
    const m = pick(this.mounts, slot);
    if (!m) return undefined;
    const p = parseData(data);
    const sb = m.sb;
    if (sb.domain === undefined) {
      // No domain at mount time and a remount cannot set one: sharing can never be in effect (O3).
      return { result: { expect: "unspecified", rule: "remount of a mount without domain_id: refused or ignored (O3)" }, sharing: { expect: "no", rule: "a remount cannot give a mount a domain_id (O3, O5: domain_id reconfiguration is ignored)" } };
    }
    const onlyDomain = !p.share && p.domain !== undefined && !p.unknown.length;
    if (onlyDomain && sb.sharing === "yes") return { result: { expect: "ok", rule: "remount with a new domain_id is accepted and ignored (O5)" }, sharing: { expect: "unspecified", rule: "share state after remount,domain_id is recorded, not specified (O5)" } };
    if (p.share && sb.sharing === "yes" && !p.unknown.length) return { result: { expect: "unspecified", rule: "remount keeping inode_share: not documented" }, sharing: { expect: "yes", rule: "remount keeping inode_share and the original domain" } };
    return { result: { expect: "unspecified", rule: "remount that changes the share options: not documented" }, sharing: { expect: "unspecified", rule: "remount that changes the share options: not documented" } };
  }

  /** Whether the two files must share page frames ("yes"), must not ("no"), or no rule decides. */
  predictFrames(a: FileRef, b: FileRef): Prediction<Tri> | undefined {
    const fa = this.resolve(a);
    const fb = this.resolve(b);
    if (!fa || !fb) return undefined;
    if (fa.mount.sb === fb.mount.sb && inodeOf(fa.file) === inodeOf(fb.file)) return { expect: "yes", rule: "the same inode" };
    const sa = fa.mount.sb;
    const sb = fb.mount.sb;
    if (sa.sharing === "no" || sb.sharing === "no") return { expect: "no", rule: "sharing is not in effect on both mounts" };
    if (sa.sharing === "unspecified" || sb.sharing === "unspecified") return { expect: "unspecified", rule: "the share state of a mount is not specified after what was done to it" };
    if (sa.domain !== sb.domain) return { expect: "no", rule: "different domain_id values never share (erofs.rst: within the same domain ID)" };
    if (!fa.file.fingerprint || !fb.file.fingerprint) return { expect: "no", rule: "a file without a fingerprint is never shared" };
    if (fa.file.fingerprint !== fb.file.fingerprint) return { expect: "no", rule: "different fingerprints (different content) never share" };
    if (fa.file.size !== fb.file.size) return { expect: "no", rule: "the same fingerprint with a different i_size is refused (A1)" };
    if (aopsOf(fa.file, sa.backing) !== aopsOf(fb.file, sb.backing)) return { expect: "no", rule: "different address-space operations (uncompressed data on a block device vs a backing file) never share (D3)" };
    return { expect: "yes", rule: RULE_DOC_SHARE };
  }

  /** What umount(2) of the mount at `slot` returns. */
  predictUmount(slot: number, lazy: boolean): Prediction<CallResult> | undefined {
    const m = pick(this.mounts, slot);
    if (!m) return undefined;
    if (lazy) return { expect: "ok", rule: "a lazy unmount detaches at once" };
    if (m.holds > 0) return { expect: "EBUSY", rule: "a mount with open, mapped files is busy" };
    if (m.reader) return { expect: "unspecified", rule: "a concurrent reader may or may not have a file open at that moment" };
    return { expect: "ok", rule: "nothing open on it" };
  }

  /** The mount and file a reference resolves to in the current state. */
  resolve(r: FileRef): { mount: ModelMount; file: ModelFile } | undefined {
    const mount = pick(this.mounts, r.slot);
    if (!mount) return undefined;
    const file = pick(readableFiles(mount.sb.image), r.file);
    return file ? { mount, file } : undefined;
  }

  // ---- state updates from what the kernel really did ----

  /** A mount succeeded; `sharing` is the model's prediction for it (a reused superblock keeps its own). */
  commitMount(image: number, backing: Backing, opts: MountOptionSet, sharing: Tri): ModelMount {
    const img = pick(this.images, image)!;
    const p = parseData(opts.raw ?? [opts.share && "inode_share", opts.domain !== undefined && `domain_id=${opts.domain}`].filter(Boolean).join(","));
    let sb = backing === "bdev" ? this.bdevSuperblock(img) : undefined;
    if (!sb) {
      sb = { id: this.nextId++, image: img, backing, domain: p.domain, sharing, refs: 0 };
      this.superblocks.push(sb);
    }
    sb.refs++;
    const m: ModelMount = { id: this.nextId++, sb, holds: 0, reader: false };
    this.mounts.push(m);
    return m;
  }

  /** A remount succeeded: the share state is what the model predicted for after it. */
  commitRemount(slot: number, sharing: Tri): void {
    const m = pick(this.mounts, slot);
    if (m) m.sb.sharing = sharing;
  }

  /** The mount at `slot` is no longer attached; its superblock lives on while holds keep it. */
  commitUmount(slot: number): ModelMount | undefined {
    const m = pick(this.mounts, slot);
    if (!m) return undefined;
    this.mounts.splice(this.mounts.indexOf(m), 1);
    if (m.holds === 0 && !m.reader) this.unref(m.sb); // else detached but in use: the superblock stays
    return m;
  }

  commitHold(m: ModelMount): void {
    m.holds++;
  }

  commitRelease(m: ModelMount): void {
    m.holds--;
    if (!this.mounts.includes(m) && m.holds === 0 && !m.reader) this.unref(m.sb);
  }

  commitReader(m: ModelMount): void {
    m.reader = true;
  }

  private unref(sb: Superblock): void {
    if (--sb.refs <= 0) this.superblocks.splice(this.superblocks.indexOf(sb), 1);
  }

  private bdevSuperblock(img: ModelImage): Superblock | undefined {
    return this.superblocks.find((s) => s.image === img && s.backing === "bdev");
  }

  private sharingFor(img: ModelImage, share: boolean, domain: string | undefined): Prediction<Tri> {
    if (!share) return { expect: "no", rule: "mounted without inode_share" };
    if (domain === undefined) return { expect: "no", rule: "no domain_id" };
    if (!img.fingerprinted) return { expect: "no", rule: "an image without ishare xattrs turns inode_share off (O2)" };
    return { expect: "yes", rule: "inode_share with a domain_id on a fingerprinted image" };
  }
}

function inodeOf(f: ModelFile): string {
  return f.linkOf ?? f.path;
}
