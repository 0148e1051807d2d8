// Owns: XXH32 (xxHash 32-bit) as the kernel's lib/xxhash.c computes it, plus the inverse of one lane round
// (used by collide.ts to build multi-collisions). Works on Uint8Array input, little-endian words.

export const P1 = 0x9e3779b1;
export const P2 = 0x85ebca77;
export const P3 = 0xc2b2ae3d;
export const P4 = 0x27d4eb2f;
export const P5 = 0x165667b1;

const mul = Math.imul;
const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
const rotr = (x: number, r: number): number => ((x >>> r) | (x << (32 - r))) >>> 0;
const rd32 = (b: Uint8Array, i: number): number => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** One lane round: rotl(acc + input * P2, 13) * P1. */
export function xxh32Round(acc: number, input: number): number {
  return mul(rotl((acc + mul(input, P2)) >>> 0, 13), P1) >>> 0;
}

/** Modular inverse of an odd 32-bit number (Newton iteration). */
function inv32(a: number): number {
  let x = a >>> 0; // correct to 3 bits
  for (let i = 0; i < 5; i++) x = mul(x, (2 - mul(a, x)) >>> 0) >>> 0;
  return x >>> 0;
}
const INV_P1 = inv32(P1);
const INV_P2 = inv32(P2);

/** The input word that takes lane state `acc` to `target` in one round (the round is a bijection on input). */
export function xxh32RoundInverse(acc: number, target: number): number {
  const sum = rotr(mul(target, INV_P1) >>> 0, 13);
  return mul((sum - acc) >>> 0, INV_P2) >>> 0;
}

/** Initial lane states for a seed (inputs of 16 bytes or more). */
export function xxh32InitLanes(seed = 0): [number, number, number, number] {
  return [(seed + P1 + P2) >>> 0, (seed + P2) >>> 0, seed >>> 0, (seed - P1) >>> 0];
}

/** XXH32 of `input` with `seed` (kernel: xxh32(input, len, seed)). */
export function xxh32(input: Uint8Array, seed = 0): number {
  const len = input.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let [v1, v2, v3, v4] = xxh32InitLanes(seed);
    const limit = len - 16;
    while (p <= limit) {
      v1 = xxh32Round(v1, rd32(input, p));
      v2 = xxh32Round(v2, rd32(input, p + 4));
      v3 = xxh32Round(v3, rd32(input, p + 8));
      v4 = xxh32Round(v4, rd32(input, p + 12));
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = (seed + P5) >>> 0;
  }
  h = (h + len) >>> 0;
  while (p + 4 <= len) {
    h = mul(rotl((h + mul(rd32(input, p), P3)) >>> 0, 17), P4) >>> 0;
    p += 4;
  }
  while (p < len) {
    h = mul(rotl((h + mul(input[p], P5)) >>> 0, 11), P1) >>> 0;
    p++;
  }
  h ^= h >>> 15;
  h = mul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = mul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
