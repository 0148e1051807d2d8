// Owns: parsing dump.erofs output (-s, --path/--nid, --ls) for comparisons with the reader in tests.
import type { ErofsTools } from "../../../harness/images/erofs-utils.ts";
import { run } from "./tools.ts";

export interface DumpSuper {
  blockSize: number;
  blocks: number;
  metaBlkAddr: number;
  xattrBlkAddr: number;
  rootNid: number;
  inodeCount: number;
  compat: string[];
  incompat: string[];
  uuid: string;
}

export async function dumpSuper(t: ErofsTools, img: string): Promise<DumpSuper> {
  const r = await run(t.dump, ["-s", img]);
  if (r.exitCode !== 0) throw new Error(`dump.erofs -s failed: ${r.stderr}`);
  const f = (label: string): string => {
    const m = r.stdout.match(new RegExp(`^Filesystem ${label}:\\s*(.*)$`, "m"));
    if (!m) throw new Error(`dump.erofs -s: no "${label}" line in:\n${r.stdout}`);
    return m[1].trim();
  };
  return {
    blockSize: Number(f("blocksize")),
    blocks: Number(f("blocks")),
    metaBlkAddr: Number(f("inode metadata start block")),
    xattrBlkAddr: Number(f("shared xattr metadata start block")),
    rootNid: Number(f("root nid")),
    inodeCount: Number(f("inode count")),
    compat: f("compatible features").split(/\s+/).filter(Boolean),
    incompat: f("incompatible features").split(/\s+/).filter(Boolean),
    uuid: f("UUID"),
  };
}

export interface DumpInode {
  size: number;
  nid: number;
  links: number;
  layout: number;
  inodeSize: number;
  xattrSize: number;
  uid: number;
  gid: number;
  mode: number;
}

export async function dumpInode(t: ErofsTools, img: string, path: string): Promise<DumpInode> {
  const r = await run(t.dump, [`--path=${path}`, img]);
  if (r.exitCode !== 0) throw new Error(`dump.erofs --path=${path} failed: ${r.stderr}`);
  const n = (re: RegExp): number => {
    const m = r.stdout.match(re);
    if (!m) throw new Error(`dump.erofs --path=${path}: ${re} not found in:\n${r.stdout}`);
    return Number(m[1]);
  };
  return {
    size: n(/^Size: (\d+)/m),
    nid: n(/^NID: (\d+)/m),
    links: n(/Links: (\d+)/),
    layout: n(/Layout: (\d+)/),
    inodeSize: n(/Inode size: (\d+)/),
    xattrSize: n(/Xattr size: (\d+)/),
    uid: n(/Uid: (\d+)/),
    gid: n(/Gid: (\d+)/),
    mode: parseInt(r.stdout.match(/Access: ([0-7]+)/)?.[1] ?? "NaN", 8),
  };
}

export interface DumpDirent { nid: number; type: number; name: string }

export async function dumpLs(t: ErofsTools, img: string, path: string): Promise<DumpDirent[]> {
  const r = await run(t.dump, ["--ls", `--path=${path}`, img]);
  if (r.exitCode !== 0) throw new Error(`dump.erofs --ls --path=${path} failed: ${r.stderr}`);
  const out: DumpDirent[] = [];
  let inTable = false;
  for (const line of r.stdout.split("\n")) {
    if (/^\s*NID\s+TYPE\s+FILENAME/.test(line)) { inTable = true; continue; }
    if (!inTable) continue;
    const m = line.match(/^\s*(\d+)\s+(\d+)\s+(.*)$/);
    if (m) out.push({ nid: Number(m[1]), type: Number(m[2]), name: m[3] });
  }
  return out;
}
