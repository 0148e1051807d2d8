// The PVH entry of a kernel. An uncompressed ELF vmlinux that carries Xen's PHYS32_ENTRY note can be
// given to QEMU's -kernel as is: QEMU jumps to that 32-bit entry with the command line and initrd in
// a start-info block, skipping the firmware's real-mode setup and the kernel's self-decompression
// (about 0.9 s of a 2.7 s boot under TCG here). This module reads that note, and recovers the vmlinux
// from a bzImage whose packages ship none (Debian's), as a cache entry keyed by the bzImage's sha256.
import { open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { cachedDir } from "../util/cache.ts";
import { sha256File } from "../util/hash.ts";

/** ELF note type of the 32-bit PVH entry point (xen/include/public/elfnote.h), in notes named "Xen". */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;
export const NOT_ELF = "not an ELF file";

/** The PVH entry address of an ELF file, or why it has none (not ELF64, no "Xen" note of type 18). */
export async function pvhEntry(file: string): Promise<{ entry: number } | { problem: string }> {
  const fh = await open(file, "r");
  try {
    const hdr = Buffer.alloc(64);
    const { bytesRead } = await fh.read(hdr, 0, 64, 0);
    if (bytesRead < 64 || hdr.readUInt32BE(0) !== 0x7f454c46) return { problem: NOT_ELF };
    if (hdr[4] !== 2 || hdr[5] !== 1) return { problem: "not a little-endian ELF64 file" };
    const phoff = Number(hdr.readBigUInt64LE(32));
    const phentsize = hdr.readUInt16LE(54);
    const phnum = hdr.readUInt16LE(56);
    const size = (await fh.stat()).size;
    if (phentsize < 56 || phoff + phentsize * phnum > size) return { problem: "program headers lie outside the file (truncated?)" };
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const p = i * phentsize;
      if (ph.readUInt32LE(p) !== PT_NOTE) continue;
      const offset = Number(ph.readBigUInt64LE(p + 8));
      const filesz = Number(ph.readBigUInt64LE(p + 32));
      if (offset + filesz > size) return { problem: "a note segment lies outside the file (truncated?)" };
      const notes = Buffer.alloc(filesz);
      await fh.read(notes, 0, filesz, offset);
      const entry = findPhys32Entry(notes);
      if (entry !== undefined) return { entry };
    }
    return { problem: "no Xen PHYS32_ENTRY note (kernel built without CONFIG_PVH)" };
  } finally {
    await fh.close();
  }
}

/** Walks the notes of one PT_NOTE segment (4-byte aligned name and descriptor) for Xen type 18. */
function findPhys32Entry(notes: Buffer): number | undefined {
  const align = (n: number) => (n + 3) & ~3;
  for (let at = 0; at + 12 <= notes.length; ) {
    const namesz = notes.readUInt32LE(at);
    const descsz = notes.readUInt32LE(at + 4);
    const type = notes.readUInt32LE(at + 8);
    const name = notes.toString("latin1", at + 12, at + 12 + Math.max(0, namesz - 1));
    const desc = at + 12 + align(namesz);
    if (desc + descsz > notes.length) return undefined;
    if (name === "Xen" && type === XEN_ELFNOTE_PHYS32_ENTRY && descsz >= 4) return notes.readUInt32LE(desc);
    at = desc + align(descsz);
  }
  return undefined;
}

/** Magic bytes of the compressors a bzImage payload may use, and the host command that undoes each. */
const DECOMPRESSORS: { name: string; magic: number[]; argv: string[] }[] = [
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd], argv: ["zstd", "-dcq"] },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], argv: ["xz", "-dc"] },
  { name: "gzip", magic: [0x1f, 0x8b], argv: ["gzip", "-dc"] },
  { name: "lzma", magic: [0x5d, 0x00, 0x00], argv: ["xz", "-dc", "--format=lzma"] },
  { name: "bzip2", magic: [0x42, 0x5a, 0x68], argv: ["bzip2", "-dc"] },
  { name: "lz4", magic: [0x02, 0x21, 0x4c, 0x18], argv: ["lz4", "-dc"] },
];

/**
 * The compressed kernel inside a bzImage, located by the boot protocol's own fields (2.08+:
 * payload_offset and payload_length after the setup sectors) rather than by scanning for magic bytes.
 * The kernel's build appends the uncompressed size as a little-endian u32 ("_with_size"), which the
 * extraction checks against what came out.
 */
export function bzImagePayload(buf: Buffer): { data: Buffer; compressor: (typeof DECOMPRESSORS)[number]; size: number } {
  if (buf.length < 0x250 || buf.toString("latin1", 0x202, 0x206) !== "HdrS") throw new Error("not a bzImage (no HdrS setup header)");
  const protocol = buf.readUInt16LE(0x206);
  if (protocol < 0x208) throw new Error(`boot protocol ${(protocol >> 8).toString()}.${(protocol & 0xff).toString()} has no payload fields (2.08+)`);
  const setupSects = buf[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + buf.readUInt32LE(0x248);
  const length = buf.readUInt32LE(0x24c);
  if (length < 8 || start + length > buf.length) throw new Error("payload lies outside the file (truncated?)");
  const payload = buf.subarray(start, start + length);
  const compressor = DECOMPRESSORS.find((d) => d.magic.every((b, i) => payload[i] === b));
  if (!compressor) throw new Error(`unknown payload compression (first bytes ${payload.subarray(0, 6).toString("hex")})`);
  return { data: payload.subarray(0, length - 4), compressor, size: payload.readUInt32LE(length - 4) };
}

/** Decompress a bzImage's payload into `out` and check it is the ELF it should be. */
export async function extractVmlinux(bzImage: string, out: string): Promise<void> {
  const { data, compressor, size } = bzImagePayload(await readFile(bzImage));
  const [cmd, ...args] = compressor.argv;
  const r = await execa(cmd, args, { input: data, encoding: "buffer", reject: false, maxBuffer: 1 << 30 });
  if (r.exitCode !== 0) {
    const why = r.failed && r.exitCode === undefined ? `${cmd} not found (apt-get install ${cmd === "zstd" ? "zstd" : cmd})` : Buffer.from(r.stderr).toString().trim();
    throw new Error(`${bzImage}: cannot decompress its ${compressor.name} payload: ${why}`);
  }
  const elf = Buffer.from(r.stdout);
  if (elf.length !== size) throw new Error(`${bzImage}: ${compressor.name} payload gave ${elf.length} bytes, the image records ${size}`);
  await writeFile(out, elf);
}

/** Bumped when the layout of an extracted-vmlinux entry changes. */
const LAYOUT = 1;

/**
 * The PVH-bootable vmlinux inside `bzImage`, extracted once into cachedDir("kernels",
 * "vmlinux-<sha256>-v1"), or why there is none. The entry is checked like every other (sizes,
 * sha256 after any write) and its vmlinux must still carry the note, else it is extracted again.
 */
export async function extractedPvhVmlinux(bzImage: string, sha256?: string): Promise<{ vmlinux: string } | { problem: string }> {
  const hash = sha256 ?? (await sha256File(bzImage));
  try {
    const dir = await cachedDir(
      "kernels",
      `vmlinux-${hash.slice(0, 32)}-v${LAYOUT}`,
      async (tmp) => {
        const vmlinux = path.join(tmp, "vmlinux");
        await extractVmlinux(bzImage, vmlinux);
        const r = await pvhEntry(vmlinux);
        // A kernel without the entry keeps only this record: it is not extracted again on every run.
        if ("problem" in r) await rm(vmlinux);
        await writeFile(path.join(tmp, "pvh.json"), JSON.stringify({ from: hash, ...r }));
      },
      { check: checkEntry },
    );
    const note = await readNote(dir);
    return note.entry !== undefined ? { vmlinux: path.join(dir, "vmlinux") } : { problem: note.problem ?? "no PVH entry" };
  } catch (err) {
    return { problem: (err as Error).message.split("\n")[0] };
  }
}

/** Beyond sizes and hashes: the vmlinux must still be an ELF with the entry its record names. */
async function checkEntry(dir: string): Promise<string | undefined> {
  const note = await readNote(dir).catch(() => undefined);
  if (!note) return "pvh.json is unreadable";
  if (note.entry === undefined) return undefined;
  const r = await pvhEntry(path.join(dir, "vmlinux")).catch((err: Error) => ({ problem: err.message }));
  if ("problem" in r) return `vmlinux: ${r.problem}`;
  return r.entry === note.entry ? undefined : `vmlinux: PVH entry 0x${r.entry.toString(16)}, recorded 0x${note.entry.toString(16)}`;
}

async function readNote(dir: string): Promise<{ entry?: number; problem?: string }> {
  return JSON.parse(await readFile(path.join(dir, "pvh.json"), "utf8"));
}
