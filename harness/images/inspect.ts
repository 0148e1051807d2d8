// Owns: describing an existing EROFS image (superblock, features, long xattr prefixes, files, every
// xattr's name and value, fingerprints) as data and as
// text, read with the EROFS reader alone (no tools), for `pcshare images inspect`.
import { readFile } from "node:fs/promises";
import { ErofsImage } from "./erofs/reader.ts";
import { INCOMPAT } from "./erofs/format.ts";
import { fingerprintText } from "./verify.ts";
import { InputError } from "../util/input-error.ts";

export interface InspectedImage {
  path: string;
  size: number;
  blockSize: number;
  uuid: string;
  volumeName: string;
  inodeCount: number;
  blocks: number;
  buildTime: number;
  checksumValid: boolean | undefined;
  features: string[];
  fingerprintXattr: string | null;
  extraDevices: number;
  /** long xattr name prefixes, in index order (one of them may be the fingerprint's) */
  xattrPrefixes: string[];
  files: {
    path: string; type: string; size: number; mode: string; nid: number; layout: string; nlink: number; fingerprint: string | null;
    /** every xattr as the kernel lists it (inline, then shared; the fingerprint digest too), value as hex */
    xattrs: { name: string; hex: string; shared: boolean }[];
  }[];
}

function incompatNames(bits: number): string[] {
  const names = new Map<number, string>();
  for (const [k, v] of Object.entries(INCOMPAT)) if (!names.has(v)) names.set(v, k.toLowerCase());
  const out: string[] = [];
  for (let i = 0; i < 32; i++) if (bits & (2 ** i)) out.push(names.get(2 ** i) ?? `incompat:0x${(2 ** i).toString(16)}`);
  return out;
}

export async function inspectImage(path: string): Promise<InspectedImage> {
  const bytes = new Uint8Array(await readFile(path));
  let img: ErofsImage;
  try {
    img = ErofsImage.open(bytes);
  } catch (err) {
    throw new InputError(`${path}: not an EROFS image (${(err as Error).message}); give an image built by mkfs.erofs`);
  }
  const sb = img.superblock;
  const cut = img.truncation();
  if (cut) {
    throw new InputError(
      `${path}: truncated: ${cut.actualBytes} bytes, but its superblock says ${sb.blocks} blocks of ${sb.blockSize} bytes (${cut.expectedBytes} bytes); copy or build the image again`,
    );
  }
  const files: InspectedImage["files"] = [];
  for (const e of img.walk()) {
    const fp = e.inode.type === "file" ? img.fingerprint(e.nid) : undefined;
    files.push({
      path: e.path,
      type: e.inode.type,
      size: e.inode.size,
      mode: (e.inode.mode & 0o7777).toString(8).padStart(4, "0"),
      nid: e.nid,
      layout: e.inode.layout,
      nlink: e.inode.nlink,
      fingerprint: fp ? fingerprintText(fp) : null,
      xattrs: img.xattrs(e.nid).map((x) => ({ name: x.name, hex: Buffer.from(x.value).toString("hex"), shared: x.shared })),
    });
  }
  return {
    path,
    size: bytes.length,
    blockSize: sb.blockSize,
    uuid: sb.uuid,
    volumeName: sb.volumeName,
    inodeCount: sb.inodeCount,
    blocks: sb.blocks,
    buildTime: sb.buildTime,
    checksumValid: sb.checksumValid,
    features: [...sb.compatNames, ...incompatNames(sb.featureIncompat)],
    fingerprintXattr: sb.ishareXattrName ?? null,
    extraDevices: sb.extraDevices,
    xattrPrefixes: sb.xattrPrefixes.map((p) => p.name),
    files,
  };
}

/** A value for reading: quoted text when printable ASCII, else hex; long ones cut with their length. */
function showValue(hex: string): string {
  const b = Buffer.from(hex, "hex");
  const text = /^[\x20-\x7e]*$/.test(b.toString("latin1"));
  const shown = text ? JSON.stringify(b.toString("latin1")) : `hex:${hex}`;
  return shown.length > 72 ? `${shown.slice(0, 64)}... (${b.length} bytes)` : shown;
}

export function formatInspection(r: InspectedImage): string {
  const lines = [
    `image        ${r.path} (${r.size} bytes)`,
    `block size   ${r.blockSize}, ${r.blocks} blocks, ${r.inodeCount} inodes${r.extraDevices ? `, ${r.extraDevices} extra device(s)` : ""}`,
    `uuid         ${r.uuid}${r.volumeName ? `  label ${r.volumeName}` : ""}`,
    `checksum     ${r.checksumValid === undefined ? "none" : r.checksumValid ? "valid" : "INVALID"}`,
    `features     ${r.features.join(" ") || "(none)"}`,
    `fingerprints ${r.fingerprintXattr ? `xattr ${r.fingerprintXattr}` : "none (no ishare_xattrs)"}`,
    `prefixes     ${r.xattrPrefixes.map((p) => JSON.stringify(p)).join(" ") || "(none)"}`,
    "",
  ];
  const w = Math.max(4, ...r.files.map((f) => f.path.length));
  lines.push(`${"path".padEnd(w)}  type     mode        size    nid  layout              fingerprint`);
  for (const f of r.files) {
    lines.push(
      `${f.path.padEnd(w)}  ${f.type.padEnd(7)}  ${f.mode}  ${String(f.size).padStart(10)}  ${String(f.nid).padStart(5)}  ${f.layout.padEnd(18)}  ${f.fingerprint ?? "-"}`,
    );
    for (const x of f.xattrs) if (x.name !== r.fingerprintXattr) lines.push(`${"".padEnd(w)}  xattr ${x.name} = ${showValue(x.hex)}${x.shared ? " (shared)" : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
