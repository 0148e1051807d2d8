// Digests as lowercase hex (streamed for large files): sha256 via @noble/hashes, for what must be
// cryptographic (fingerprints, cache keys, downloads); XXH64 via @node-rs/xxhash, for the bytes the guest
// read, which the agent digests with the same function (harness/guest/agent/xxh64.c) because SHA-256
// costs ~80 times more guest CPU under TCG.
import { createReadStream } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Xxh64, xxh64 } from "@node-rs/xxhash";

export async function sha256File(file: string): Promise<string> {
  const h = sha256.create();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return bytesToHex(h.digest());
}

export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? new TextEncoder().encode(data) : data));
}

/** XXH64 (seed 0) as the 16 hex digits xxhsum prints: the agent's digest of what it read. */
export function xxh64Hex(data: Uint8Array | string): string {
  return hex64(xxh64(data));
}

/** XXH64 and sha256 of a file's content in one pass. */
export async function fileDigests(file: string): Promise<{ sha256: string; xxh64: string }> {
  const s = sha256.create();
  const x = new Xxh64();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    s.update(chunk as Buffer);
    x.update(chunk as Buffer);
  }
  return { sha256: bytesToHex(s.digest()), xxh64: hex64(x.digest()) };
}

const hex64 = (v: bigint) => v.toString(16).padStart(16, "0");
