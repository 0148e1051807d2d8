// A writer for the "newc" cpio format the kernel unpacks as an initramfs (uncompressed, so the
// guest spends no boot time decompressing). Entries are written in the order given; mtimes are 0
// so the same inputs give the same bytes. Hand-written: the format is 110-byte ASCII headers and
// npm has no maintained writer for it.

export type CpioEntry =
  | { path: string; type: "dir"; mode?: number }
  | { path: string; type: "file"; data: Uint8Array; mode?: number }
  | { path: string; type: "symlink"; target: string };

const TRAILER = "TRAILER!!!";

function header(ino: number, mode: number, size: number, nameSize: number): string {
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  // magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return "070701" + [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameSize, 0].map(hex).join("");
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const emit = (ino: number, mode: number, name: string, data: Uint8Array) => {
    const nameBytes = Buffer.from(name + "\0");
    push(Buffer.from(header(ino, mode, data.length, nameBytes.length), "ascii"));
    push(nameBytes);
    push(Buffer.alloc(pad4(offset)));
    push(Buffer.from(data));
    push(Buffer.alloc(pad4(offset)));
  };
  entries.forEach((e, i) => {
    const name = e.path.replace(/^\/+/, "");
    if (e.type === "dir") emit(i + 1, 0o040000 | (e.mode ?? 0o755), name, new Uint8Array());
    else if (e.type === "file") emit(i + 1, 0o100000 | (e.mode ?? 0o644), name, e.data);
    else emit(i + 1, 0o120777, name, Buffer.from(e.target));
  });
  emit(0, 0, TRAILER, new Uint8Array());
  return Buffer.concat(parts);
}
