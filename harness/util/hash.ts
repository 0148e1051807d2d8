// sha256 of files and bytes as lowercase hex (streamed for large files), via @noble/hashes.
import { createReadStream } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

export async function sha256File(file: string): Promise<string> {
  const h = sha256.create();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return bytesToHex(h.digest());
}

export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? new TextEncoder().encode(data) : data));
}
