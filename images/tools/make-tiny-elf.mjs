#!/usr/bin/env node
// Writes images/exec-src/bin/pcs-touch: a deterministic static x86-64 ELF (no libc) of 16 pages, one
// R+X PT_LOAD segment. It reads one byte of each of its 16 text pages (so every page is mapped),
// sleeps 30 s (nanosleep) and exits 0. Used by the exec case (F5) through images/functional-x.yaml.
// Regenerate with: node images/tools/make-tiny-elf.mjs (the output is byte-identical every time).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PAGES = 16;
const SIZE = PAGES * 4096;
const BASE = 0x400000;
const CODE = 64 + 56; // after the ELF header and one program header
const buf = Buffer.alloc(SIZE);

// Filler: a fixed LCG stream, so no page is all zeros.
let x = 0x2545f491;
for (let i = 0; i < SIZE; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  buf[i] = x >>> 24;
}

// ELF header
buf.fill(0, 0, CODE);
Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(buf, 0); // ELFCLASS64, LSB, version 1, SysV
buf.writeUInt16LE(2, 16); // ET_EXEC
buf.writeUInt16LE(0x3e, 18); // EM_X86_64
buf.writeUInt32LE(1, 20); // EV_CURRENT
buf.writeBigUInt64LE(BigInt(BASE + CODE), 24); // e_entry
buf.writeBigUInt64LE(64n, 32); // e_phoff
buf.writeBigUInt64LE(0n, 40); // e_shoff
buf.writeUInt32LE(0, 48); // e_flags
buf.writeUInt16LE(64, 52); // e_ehsize
buf.writeUInt16LE(56, 54); // e_phentsize
buf.writeUInt16LE(1, 56); // e_phnum
buf.writeUInt16LE(64, 58); // e_shentsize
buf.writeUInt16LE(0, 60); // e_shnum
buf.writeUInt16LE(0, 62); // e_shstrndx
// Program header: PT_LOAD, R+X, the whole file at BASE
buf.writeUInt32LE(1, 64); // PT_LOAD
buf.writeUInt32LE(5, 68); // PF_R | PF_X
buf.writeBigUInt64LE(0n, 72); // p_offset
buf.writeBigUInt64LE(BigInt(BASE), 80); // p_vaddr
buf.writeBigUInt64LE(BigInt(BASE), 88); // p_paddr
buf.writeBigUInt64LE(BigInt(SIZE), 96); // p_filesz
buf.writeBigUInt64LE(BigInt(SIZE), 104); // p_memsz
buf.writeBigUInt64LE(0x1000n, 112); // p_align

const code = [
  0xbe, ...le32(BASE), //               mov esi, BASE
  0xb9, ...le32(PAGES), //              mov ecx, PAGES
  // loop:
  0x8a, 0x06, //                        mov al, [rsi]
  0x48, 0x81, 0xc6, ...le32(4096), //   add rsi, 4096
  0xff, 0xc9, //                        dec ecx
  0x75, 0x100 - 13, //                  jnz loop
  0xb8, ...le32(35), //                 mov eax, SYS_nanosleep
  0x48, 0x8d, 0x3d, 0, 0, 0, 0, //      lea rdi, [rip + ts]   (patched below)
  0x31, 0xf6, //                        xor esi, esi
  0x0f, 0x05, //                        syscall
  0xb8, ...le32(60), //                 mov eax, SYS_exit
  0x31, 0xff, //                        xor edi, edi
  0x0f, 0x05, //                        syscall
];
const leaEnd = code.indexOf(0x8d) + 6; // index just after the lea instruction
const tsAt = code.length;
const disp = tsAt - leaEnd;
code.splice(leaEnd - 4, 4, ...le32(disp));
Buffer.from(code).copy(buf, CODE);
buf.writeBigUInt64LE(30n, CODE + tsAt); // struct timespec { 30 s, 0 ns }
buf.writeBigUInt64LE(0n, CODE + tsAt + 8);

function le32(v) {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

const out = fileURLToPath(new URL("../exec-src/bin/pcs-touch", import.meta.url));
mkdirSync(fileURLToPath(new URL("../exec-src/bin/", import.meta.url)), { recursive: true });
writeFileSync(out, buf, { mode: 0o755 });
console.log(`wrote ${out} (${SIZE} bytes)`);
