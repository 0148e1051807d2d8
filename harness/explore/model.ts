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
//   compressed data is read the same way on both). A fingerprint value that is empty or longer than
//   the image's block size is refused (the file is not shared, A2). The first inode of a key creates
//   the shared inode; a later one with another i_size or other address-space operations is not
//   shared (A1), so where files of one key differ in those, which ones share depends on lookup order
//   and is not specified.
// - Inside one domain the kernel trusts fingerprints (CASES.md I3a): files with the same key share one
//   page cache, so a read returns the bytes of one of the files of that key (the source's own bytes
//   when no other file has its key): a forged, colliding fingerprint may serve another file's bytes,
//   but never bytes that no file of the key has.
// - The model follows which inodes exist: a file's inode is made at its first lookup and shared or
//   not then (the first inode of a key makes the shared inode with its i_size and address-space
//   operations; a later one that differs in those is not shared); it lives until drop_caches drops
//   it (unless a held file keeps it) or its superblock goes, and the shared inode lives while any
//   shared inode of its key does. After a concurrent reader (which opens and closes the file at any
//   moment) the model no longer knows which inodes live and falls back to "unspecified" where the
//   lookup order would decide.
// - open(2) with O_DIRECT: a shared file refuses it (EINVAL, F3); otherwise the VFS allows it where
//   the file's address-space operations do direct I/O (uncompressed data on a block device) and
//   refuses it elsewhere (compressed data, file-backed mounts).
// - fadvise(POSIX_FADV_DONTNEED) drops the file's clean, unmapped page cache; on a shared file it is
//   forwarded to the shared inode (F2), so nothing of the file stays resident when nothing maps it.
import type { Backing, FileRef, MountOptionSet } from "./program.ts";
import { pick } from "./program.ts";

export type Tri = "yes" | "no" | "unspecified";

export interface ModelFile {
  path: string;
  size: number;
  /** content digests: sha256 (busybox sha256sum in the guest), XXH64 (the agent's reads) */
  sha256: string;
  xxh64: string;
  /** The fingerprint value the image carries ("sha256:<hex>"), or null. */
  fingerprint: string | null;
  layout: string | null;
  /** Hardlink: the first name of the same inode. */
  linkOf?: string;
}

export interface ModelImage {
  name: string;
  /** The image's block size (a fingerprint value longer than it is refused); default 4096. */
  blockSize?: number;
  /** Regular files, in manifest order (file indexes of operations resolve over this list, non-empty ones). */
  files: ModelFile[];
  /** The image has ishare xattrs (the superblock's ishare_xattrs feature, mkfs --xattr-inode-digest). */
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
  /** The dax option it was mounted with (shown in the mount's options). */
  dax?: "always" | "never";
  /** What the last successful remount asked for (the options shown then follow it; options.ts). */
  remounted?: string;
  /** Mounts (attached or detached) and holds that keep it alive. */
  refs: number;
}

/** Told when a page cache comes into being (a new inode, or a new shared inode) and when it goes (charge-model.ts). */
export interface CacheListener {
  created(owner: string): void;
  dropped(owner: string): void;
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
  // A loop device is a block device: its uncompressed data is read like the virtio disk's.
  return f.layout?.startsWith("compressed") ? "compressed" : backing === "file" ? "file" : "bdev";
}

/** Bytes of a fingerprint value as the manifest writes it ("sha256:<hex>" is the 39-byte digest). */
export function fingerprintLength(fp: string): number {
  return fp.startsWith("sha256:") ? 39 : fp.startsWith("raw:") ? (fp.length - 4) / 2 : fp.length;
}

/** The kernel takes a fingerprint of 1 to block-size bytes (erofs_xattr_fill_inode_fingerprint). */
function validFingerprint(f: ModelFile, img: ModelImage): boolean {
  if (f.fingerprint === null) return false;
  const n = fingerprintLength(f.fingerprint);
  return n >= 1 && n <= (img.blockSize ?? 4096);
}

interface ParsedData {
  share: boolean;
  domain?: string;
  dax?: "always" | "never";
  unknown: string[];
}

/** Parse a mount data string the way erofs's option table would (only what the model needs). */
function parseData(data: string): ParsedData {
  const out: ParsedData = { share: false, unknown: [] };
  for (const tok of data.split(",").filter(Boolean)) {
    if (tok === "inode_share") out.share = true;
    else if (tok.startsWith("domain_id=")) out.domain = tok.slice("domain_id=".length);
    else if (tok === "dax" || tok === "dax=always") out.dax = "always";
    else if (tok === "dax=never") out.dax = "never";
    else out.unknown.push(tok);
  }
  return out;
}

function optionData(opts: MountOptionSet): string {
  return opts.raw ?? [opts.share && "inode_share", opts.domain !== undefined && `domain_id=${opts.domain}`].filter(Boolean).join(",");
}

/** A file's inode as the kernel made it at its first lookup. */
interface Inode {
  sb: Superblock;
  path: string;
  shared: Tri;
  /** The key it joined (domain NUL fingerprint) when shared. */
  key?: string;
}

/** A file as placed on a superblock. */
export interface Placed {
  file: ModelFile;
  image: ModelImage;
  backing: Backing;
}

export class SharingModel {
  /** Attached mounts, in mount order (mount slots resolve over this list). */
  readonly mounts: ModelMount[] = [];
  private readonly superblocks: Superblock[] = [];
  /** Every superblock this program made (files of one that is gone may have made a shared inode that lives on). */
  private readonly history: Superblock[] = [];
  /** Holds (open, mapped files) alive now, and whether a concurrent reader was ever started. */
  private holdsAlive = 0;
  private readerStarted = false;
  /** Inodes looked up and not dropped yet; the shared inodes alive (key -> its i_size and aops, and how many inodes share it). */
  private readonly inodes: Inode[] = [];
  private readonly keys = new Map<string, { size: number; aops: string; members: number }>();
  /** Files kept open by holds (their inodes survive drop_caches). */
  private readonly pinned: { sb: Superblock; path: string }[] = [];
  private nextId = 1;
  /** Told about page caches made and dropped (the charge model follows which are empty). */
  listener?: CacheListener;

  /** `dax`: the kernel has CONFIG_FS_DAX (without it erofs refuses every dax option). */
  constructor(readonly images: readonly ModelImage[], private readonly kernel: { dax: boolean } = { dax: true }) {}

  // ---- predictions ----

  /** What mount(2) of `image` with `opts` returns, and whether sharing is then in effect on it. */
  predictMount(image: number, backing: Backing, opts: MountOptionSet): { result: Prediction<CallResult>; sharing: Prediction<Tri> } {
    const img = pick(this.images, image)!;
    const p = parseData(optionData(opts));
    const reused = backing === "bdev" ? this.bdevSuperblock(img) : undefined;
    if (p.unknown.length) return { result: { expect: "refused", rule: `unknown mount option ${p.unknown.join(",")}` }, sharing: { expect: "no", rule: "not mounted" } };
    if (p.domain === "") return { result: { expect: "refused", rule: "domain_id= with an empty value is a bad value (O1)" }, sharing: { expect: "no", rule: "not mounted" } };
    if (p.dax && !this.kernel.dax) return { result: { expect: "refused", rule: "a kernel without CONFIG_FS_DAX refuses dax options" }, sharing: { expect: "no", rule: "not mounted" } };
    if (reused) {
      // The same block device again: the same superblock, its options; whether the new options are checked is not documented.
      const fillSuperRefuses = p.share && p.domain === undefined;
      return {
        result: fillSuperRefuses ? { expect: "unspecified", rule: "a second mount of a mounted block device reuses its superblock; whether options it would refuse are checked is not documented" } : { expect: "ok", rule: "a second mount of a mounted block device reuses its superblock" },
        sharing: { expect: reused.sharing, rule: "the reused superblock keeps its own options (the new ones are ignored)" },
      };
    }
    if (p.share && p.domain === undefined) return { result: { expect: "EINVAL", rule: "domain_id is needed when inode_share is on (O1)" }, sharing: { expect: "no", rule: "not mounted" } };
    if (p.share && p.dax === "always") return { result: { expect: "refused", rule: "FSDAX is not allowed when inode_share is on (O1)" }, sharing: { expect: "no", rule: "not mounted" } };
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

  /** Whether the file (on the mount a reference resolved to) is served by a shared inode. */
  shareState(r: { mount: ModelMount; file: ModelFile }): Prediction<Tri> {
    const sb = r.mount.sb;
    if (sb.sharing === "no") return { expect: "no", rule: "sharing is not in effect on its mount" };
    if (!validFingerprint(r.file, sb.image)) return { expect: "no", rule: r.file.fingerprint === null ? "a file without a fingerprint is never shared" : "a fingerprint value that is empty or longer than a block is refused (A2)" };
    if (sb.sharing === "unspecified") return { expect: "unspecified", rule: "the share state of its mount is not specified after what was done to it" };
    const inode = this.inodes.find((i) => i.sb === sb && i.path === inodeOf(r.file));
    if (inode && inode.shared !== "unspecified") {
      return inode.shared === "yes" ? { expect: "yes", rule: RULE_DOC_SHARE } : { expect: "no", rule: "an inode of the same key with another i_size or other address-space operations made the shared inode first (A1, D3)" };
    }
    const odd = this.sameKey(r).find((m) => m.file.size !== r.file.size || aopsOf(m.file, m.backing) !== aopsOf(r.file, sb.backing));
    if (odd) return { expect: "unspecified", rule: `${odd.image.name}:${odd.file.path} has the same key with another i_size or other address-space operations: the first inode looked up decides which share (A1)` };
    return { expect: "yes", rule: RULE_DOC_SHARE };
  }

  /**
   * A lookup of the file: its inode is made now unless it lives, and shared or not as the kernel's
   * erofs_ishare_fill_inode decides from the shared inode of its key (the first inode of the key makes it).
   */
  lookup(r: { mount: ModelMount; file: ModelFile }): void {
    const sb = r.mount.sb;
    const path = inodeOf(r.file);
    if (this.inodes.some((i) => i.sb === sb && i.path === path)) return;
    const inode: Inode = { sb, path, shared: "no" };
    if (sb.sharing !== "no" && validFingerprint(r.file, sb.image)) {
      if (sb.sharing === "unspecified" || this.readerStarted) inode.shared = "unspecified";
      else {
        const key = `${sb.domain}\0${r.file.fingerprint}`;
        const aops = aopsOf(r.file, sb.backing);
        const k = this.keys.get(key);
        if (!k) this.keys.set(key, { size: r.file.size, aops, members: 1 });
        else if (k.size === r.file.size && k.aops === aops) k.members++;
        inode.shared = !k || (k.size === r.file.size && k.aops === aops) ? "yes" : "no";
        if (inode.shared === "yes") inode.key = key;
        if (!k) this.listener?.created(`key:${key}`);
      }
    }
    if (inode.shared === "no") this.listener?.created(inodeOwner(inode));
    this.inodes.push(inode);
  }

  /**
   * Whose page cache serves the file when its inode lives: its shared inode's (by key) or its own;
   * undefined when the inode is not looked up or its share state is not known.
   */
  cacheOwner(r: { mount: ModelMount; file: ModelFile }): string | undefined {
    const inode = this.inodes.find((i) => i.sb === r.mount.sb && i.path === inodeOf(r.file));
    if (!inode || inode.shared === "unspecified") return undefined;
    return inode.key !== undefined ? `key:${inode.key}` : inodeOwner(inode);
  }

  /** Every page cache whose inode lives now (after drop_caches: the ones held files kept). */
  liveCaches(): string[] {
    return [...new Set(this.inodes.filter((i) => i.shared !== "unspecified").map((i) => (i.key !== undefined ? `key:${i.key}` : inodeOwner(i))))];
  }

  /** What the superblock of the mount at `slot` was mounted and remounted with (for the options it shows). */
  optionState(slot: number): { domain?: string; sharing: Tri; dax?: "always" | "never"; remounted?: string } | undefined {
    return pick(this.mounts, slot)?.sb;
  }

  /** The live inodes that joined a shared inode, in lookup order (lets a host replay follow the kernel's per-key lists). */
  sharedInodes(): { sb: number; path: string; key: string }[] {
    return this.inodes.filter((i) => i.key !== undefined).map((i) => ({ sb: i.sb.id, path: i.path, key: i.key! }));
  }

  /** drop_caches: every inode no held file keeps is dropped (and with the last of a key, its shared inode). */
  commitDropCaches(): void {
    this.evict((i) => !this.pinned.some((p) => p.sb === i.sb && p.path === i.path));
  }

  private evict(which: (i: Inode) => boolean): void {
    for (const i of this.inodes.filter(which)) {
      this.inodes.splice(this.inodes.indexOf(i), 1);
      const k = i.key !== undefined ? this.keys.get(i.key) : undefined;
      if (k && --k.members === 0) {
        this.keys.delete(i.key!);
        this.listener?.dropped(`key:${i.key}`);
      }
      if (i.shared === "no") this.listener?.dropped(inodeOwner(i));
    }
  }

  /** The files of every superblock this program made, in the same domain with sharing possibly on, with the same valid fingerprint. */
  sameKey(r: { mount: ModelMount; file: ModelFile }): Placed[] {
    const out: Placed[] = [];
    for (const sb of this.history) {
      if (sb.sharing === "no" || sb.domain !== r.mount.sb.domain) continue;
      for (const f of sb.image.files) {
        if (f.fingerprint === r.file.fingerprint && validFingerprint(f, sb.image)) out.push({ file: f, image: sb.image, backing: sb.backing });
      }
    }
    return out;
  }

  /** The two files a frames operation compares (b "like" a: the file of b's mount with a's content, else a's path). */
  resolvePair(a: FileRef, b: FileRef, like = false): [{ mount: ModelMount; file: ModelFile }, { mount: ModelMount; file: ModelFile }] | undefined {
    const fa = this.resolve(a);
    const fb = this.resolve(b);
    if (!fa || !fb) return undefined;
    if (!like) return [fa, fb];
    const files = readableFiles(fb.mount.sb.image);
    const file = files.find((f) => f.sha256 === fa.file.sha256) ?? files.find((f) => f.path === fa.file.path) ?? fb.file;
    return [fa, { mount: fb.mount, file }];
  }

  /** Whether the two files must share page frames ("yes"), must not ("no"), or no rule decides. */
  predictFrames(a: FileRef, b: FileRef, like = false): Prediction<Tri> | undefined {
    const pair = this.resolvePair(a, b, like);
    if (!pair) return undefined;
    const [fa, fb] = pair;
    if (fa.mount.sb === fb.mount.sb && inodeOf(fa.file) === inodeOf(fb.file)) return { expect: "yes", rule: "the same inode" };
    const sa = this.shareState(fa);
    const sb = this.shareState(fb);
    if (sa.expect === "no") return { expect: "no", rule: `${fa.file.path} is not shared: ${sa.rule}` };
    if (sb.expect === "no") return { expect: "no", rule: `${fb.file.path} is not shared: ${sb.rule}` };
    if (fa.mount.sb.domain !== fb.mount.sb.domain) return { expect: "no", rule: "different domain_id values never share (erofs.rst: within the same domain ID)" };
    if (fa.file.fingerprint !== fb.file.fingerprint) return { expect: "no", rule: "different fingerprints never share" };
    if (fa.file.size !== fb.file.size) return { expect: "no", rule: "the same fingerprint with a different i_size is refused (A1)" };
    if (aopsOf(fa.file, fa.mount.sb.backing) !== aopsOf(fb.file, fb.mount.sb.backing)) return { expect: "no", rule: "different address-space operations (uncompressed data on a block device vs a backing file) never share (D3)" };
    if (sa.expect === "unspecified") return sa;
    if (sb.expect === "unspecified") return sb;
    return { expect: "yes", rule: RULE_DOC_SHARE };
  }

  /**
   * The files whose bytes a read of the file may return: its own, and where it may be shared, those
   * of every file of its key with its size (the kernel trusts fingerprints inside a domain, I3a).
   */
  predictRead(r: { mount: ModelMount; file: ModelFile }): { files: Placed[]; rule: string } {
    const own: Placed = { file: r.file, image: r.mount.sb.image, backing: r.mount.sb.backing };
    const rule = "a read returns the source's bytes, always";
    if (this.shareState(r).expect === "no") return { files: [own], rule };
    const others = this.sameKey(r).filter((m) => m.file.size === r.file.size && m.file.sha256 !== r.file.sha256);
    if (!others.length) return { files: [own], rule };
    return { files: [own, ...others], rule: "inside a domain the kernel trusts fingerprints: a read returns the bytes of one of the files of its key (I3a)" };
  }

  /** What open(2) with O_DIRECT returns. */
  predictODirect(r: { mount: ModelMount; file: ModelFile }): Prediction<CallResult> {
    const s = this.shareState(r);
    if (s.expect === "yes") return { expect: "EINVAL", rule: "a shared file refuses O_DIRECT (F3)" };
    if (s.expect === "unspecified") return { expect: "unspecified", rule: `whether the file is shared is not specified: ${s.rule}` };
    return aopsOf(r.file, r.mount.sb.backing) === "bdev"
      ? { expect: "ok", rule: "an unshared file of uncompressed data on a block device opens O_DIRECT (its address space does direct I/O)" }
      : { expect: "EINVAL", rule: "open(2) refuses O_DIRECT where the address space has no direct I/O (compressed data, file-backed mounts)" };
  }

  /** Pages of the file resident right after fadvise(DONTNEED) on it. */
  predictResidentAfterDontneed(): Prediction<number> {
    if (this.holdsAlive > 0) return { expect: "unspecified", rule: "a held mapping keeps pages that DONTNEED cannot drop (it may map this file's shared inode)" };
    if (this.readerStarted) return { expect: "unspecified", rule: "a concurrent reader may read the pages back in" };
    return { expect: 0, rule: "DONTNEED drops the clean, unmapped page cache; a shared file's is the shared inode's, fadvise is forwarded to it (F2)" };
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
    const p = parseData(optionData(opts));
    let sb = backing === "bdev" ? this.bdevSuperblock(img) : undefined;
    if (!sb) {
      sb = { id: this.nextId++, image: img, backing, domain: p.domain, sharing, dax: p.dax, refs: 0 };
      this.superblocks.push(sb);
      this.history.push(sb);
    }
    sb.refs++;
    const m: ModelMount = { id: this.nextId++, sb, holds: 0, reader: false };
    this.mounts.push(m);
    return m;
  }

  /** A remount with `data` succeeded: the share state is what the model predicted for after it. */
  commitRemount(slot: number, sharing: Tri, data = ""): void {
    const m = pick(this.mounts, slot);
    if (!m) return;
    m.sb.sharing = sharing;
    m.sb.remounted = data;
  }

  /** The mount at `slot` is no longer attached; its superblock lives on while holds keep it. */
  commitUmount(slot: number): ModelMount | undefined {
    const m = pick(this.mounts, slot);
    if (!m) return undefined;
    this.mounts.splice(this.mounts.indexOf(m), 1);
    if (m.holds === 0 && !m.reader) this.unref(m.sb); // else detached but in use: the superblock stays
    return m;
  }

  commitHold(m: ModelMount, file?: ModelFile): void {
    m.holds++;
    this.holdsAlive++;
    if (file) this.pinned.push({ sb: m.sb, path: inodeOf(file) });
  }

  commitRelease(m: ModelMount, file?: ModelFile): void {
    m.holds--;
    this.holdsAlive--;
    const pin = file ? this.pinned.findIndex((p) => p.sb === m.sb && p.path === inodeOf(file)) : -1;
    if (pin >= 0) this.pinned.splice(pin, 1);
    if (!this.mounts.includes(m) && m.holds === 0 && !m.reader) this.unref(m.sb);
  }

  commitReader(m: ModelMount): void {
    m.reader = true;
    this.readerStarted = true;
  }

  private unref(sb: Superblock): void {
    if (--sb.refs > 0) return;
    this.superblocks.splice(this.superblocks.indexOf(sb), 1);
    this.evict((i) => i.sb === sb);
  }

  private bdevSuperblock(img: ModelImage): Superblock | undefined {
    // by name: a program may name one image twice, and the guest has one block device per image
    return this.superblocks.find((s) => s.image.name === img.name && s.backing === "bdev");
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

function inodeOwner(i: Inode): string {
  return `ino:${i.sb.id}:${i.path}`;
}
