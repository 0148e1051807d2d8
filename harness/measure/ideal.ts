// The page cache that reading a set of trees needs, computed on the host from content hashes: whole
// pages per file (the page cache holds a file in pages), and with ideal sharing one copy per distinct
// content. Sources count in the order they are read: a file whose content an earlier file (of the same
// or an earlier source) already brought in costs nothing more. Hardlinks are one inode: counted once.
import type { FileRecord } from "../images/manifest.ts";

export const PAGE = 4096;

/** Page-cache footprint of a file of `size` bytes: whole pages. */
export const pageBytes = (size: number) => Math.ceil(size / PAGE) * PAGE;

export interface SourceFiles {
  label: string;
  /** the files read (regular files; hardlinks' second names and empty files take no pages) */
  files: FileRecord[];
}

export interface IdealSource {
  label: string;
  files: number;
  /** bytes of content read */
  bytes: number;
  /** page cache without sharing: every file's pages */
  plain: number;
  /** page cache with ideal sharing: pages of contents no earlier file had */
  shared: number;
}

/** A file whose content an earlier file had: it should share that file's pages. */
export interface Duplicate {
  label: string;
  path: string;
  size: number;
  sha256: string;
  /** where the content was first read */
  firstLabel: string;
  firstPath: string;
}

export interface Ideal {
  sources: IdealSource[];
  total: Omit<IdealSource, "label">;
  /** saving of ideal sharing, % of the plain total (0 when nothing is read) */
  savingPct: number;
  duplicates: Duplicate[];
}

/** Files of a manifest that take page cache when read: regular, non-empty, first name of their inode. */
export function cachedFiles(files: FileRecord[]): FileRecord[] {
  return files.filter((f) => f.type === "file" && f.size > 0 && !f.linkOf && f.sha256);
}

export function idealSharing(sources: SourceFiles[]): Ideal {
  const first = new Map<string, { label: string; path: string }>();
  const duplicates: Duplicate[] = [];
  const out: IdealSource[] = sources.map(({ label, files }) => {
    const s: IdealSource = { label, files: 0, bytes: 0, plain: 0, shared: 0 };
    for (const f of cachedFiles(files)) {
      s.files++;
      s.bytes += f.size;
      s.plain += pageBytes(f.size);
      const seen = first.get(f.sha256!);
      if (seen) duplicates.push({ label, path: f.path, size: f.size, sha256: f.sha256!, firstLabel: seen.label, firstPath: seen.path });
      else {
        first.set(f.sha256!, { label, path: f.path });
        s.shared += pageBytes(f.size);
      }
    }
    return s;
  });
  const sum = (k: "files" | "bytes" | "plain" | "shared") => out.reduce((a, s) => a + s[k], 0);
  const total = { files: sum("files"), bytes: sum("bytes"), plain: sum("plain"), shared: sum("shared") };
  return { sources: out, total, savingPct: savingPct(total.plain, total.shared), duplicates };
}

/** Saving of `shared` against `plain`, in % of plain (0 when plain is 0). */
export function savingPct(plain: number, shared: number): number {
  return plain > 0 ? (100 * (plain - shared)) / plain : 0;
}
