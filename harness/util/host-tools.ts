// Host programs pcshare needs, where they come from (Debian package names for the install hint),
// and how to find them. `pcshare doctor` and the setup script read REQUIREMENTS.
import { open } from "node:fs/promises";
import { execa } from "execa";
import systemPackages from "../../scripts/system-packages.json" with { type: "json" };

export interface Requirement {
  /** Command looked up on PATH. */
  command: string;
  /** Debian package that provides it. */
  pkg: string;
  why: string;
}

/** Commands checked by `pcshare doctor` and packages installed by scripts/ensure-setup.mjs (one list for both). */
export const REQUIREMENTS: Requirement[] = systemPackages.commands;
export const SETUP_PACKAGES: string[] = systemPackages.packages;

export async function which(command: string): Promise<string | undefined> {
  const r = await execa("sh", ["-c", `command -v "$1"`, "sh", command], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** True if the ELF file at `file` has no program interpreter (statically linked). */
export async function isStaticElf(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const hdr = Buffer.alloc(64);
    await fh.read(hdr, 0, 64, 0);
    if (hdr.readUInt32BE(0) !== 0x7f454c46 || hdr[4] !== 2) return false; // ELF64 only
    const phoff = Number(hdr.readBigUInt64LE(32));
    const phentsize = hdr.readUInt16LE(54);
    const phnum = hdr.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    await fh.close();
  }
}

/** A statically linked busybox for the guest ($PCSHARE_BUSYBOX, else busybox-static's /bin/busybox). */
export async function findBusybox(): Promise<string> {
  const candidates = [process.env.PCSHARE_BUSYBOX, "/bin/busybox", "/usr/bin/busybox", await which("busybox")].filter(
    (c): c is string => !!c,
  );
  for (const c of candidates) {
    try {
      if (await isStaticElf(c)) return c;
    } catch {
      /* not there */
    }
  }
  throw new Error(
    "no statically linked busybox found (the guest has no libc): install it with `apt-get install busybox-static` or set PCSHARE_BUSYBOX=/path/to/static/busybox",
  );
}

export async function findQemu(): Promise<string> {
  const q = process.env.PCSHARE_QEMU ?? (await which("qemu-system-x86_64"));
  if (!q) throw new Error("qemu-system-x86_64 not found: install it with `apt-get install qemu-system-x86` (or set PCSHARE_QEMU)");
  return q;
}
