// Does file B share file A's page cache? Three independent signals, each with its own verdict:
//  - frames:    identical page frames of MAP_SHARED mmaps of A and B (/proc/self/pagemap);
//  - residency: after reading A only, how much of B is resident (mincore through the mount that never read);
//  - cached:    how much Cached grows when B is read after A (~0 when shared, ~size when not).
// The overall verdict needs two signals to agree and none to contradict; otherwise "disagree".
import type { AgentClient } from "../guest/agent-client.ts";
import type { Measurement } from "../report/model.ts";
import { cacheSnapshot, dropCaches } from "./memory.ts";

export type Signal = "shared" | "separate" | "unclear";
export type SharingVerdict = "shared" | "separate" | "disagree";

export interface SharingProbe {
  verdict: SharingVerdict;
  signals: { frames: Signal; residency: Signal; cached: Signal | "n/a" };
  pages: number;
  equalFrames: number;
  residentBAfterA: number;
  cachedGrowthA: number;
  cachedGrowthB: number;
  sha256A: string;
  sha256B: string;
  measurements: Measurement[];
  summary: string;
}

/** Thresholds: a signal says "shared" at >= 95 % agreement and "separate" at <= 5 %. */
const HIGH = 0.95;
const LOW = 0.05;
/** Cached growth is meaningful only for files this large (noise is about +-100 KiB under TCG). */
const CACHED_SIGNAL_MIN_BYTES = 2 << 20;

function ratioSignal(part: number, whole: number): Signal {
  if (whole === 0) return "unclear";
  const r = part / whole;
  return r >= HIGH ? "shared" : r <= LOW ? "separate" : "unclear";
}

export function cachedSignal(growthB: number, size: number): Signal | "n/a" {
  if (size < CACHED_SIGNAL_MIN_BYTES) return "n/a";
  const r = growthB / size;
  return r <= 0.25 ? "shared" : r >= 0.75 ? "separate" : "unclear";
}

export function combine(signals: SharingProbe["signals"]): SharingVerdict {
  const all = [signals.frames, signals.residency, signals.cached].filter((s) => s !== "n/a");
  const shared = all.filter((s) => s === "shared").length;
  const separate = all.filter((s) => s === "separate").length;
  if (shared >= 2 && separate === 0) return "shared";
  if (separate >= 2 && shared === 0) return "separate";
  return "disagree";
}

/**
 * Probe sharing between guest files `a` and `b` (the same content; the size is what reading A returns,
 * the page count what mapping A gives). Starts from dropped caches, reads A
 * with read(2), checks B's residency, reads B, then compares frames. Content hashes are returned so
 * the caller can check integrity against the manifest in the same pass.
 */
export async function probeSharing(agent: AgentClient, a: string, b: string, label = ""): Promise<SharingProbe> {
  await dropCaches(agent);
  const m0 = await cacheSnapshot(agent);
  const ha = await agent.readHash(a);
  const m1 = await cacheSnapshot(agent);
  const resB = await agent.mincore(b);
  const hb = await agent.readHash(b);
  const m2 = await cacheSnapshot(agent);
  const [fa, fb] = await agent.pageFrames([a, b]);
  let equal = 0;
  for (let i = 0; i < Math.min(fa.pfns.length, fb.pfns.length); i++) {
    if (fa.pfns[i] !== null && fa.pfns[i] !== 0 && fa.pfns[i] === fb.pfns[i]) equal++;
  }
  const pages = fa.pages;
  const growthA = m1.cachedBytes - m0.cachedBytes;
  const growthB = m2.cachedBytes - m1.cachedBytes;
  const signals = {
    frames: ratioSignal(equal, pages),
    residency: ratioSignal(resB.resident, resB.pages),
    cached: cachedSignal(growthB, ha.size),
  };
  const verdict = combine(signals);
  const p = label ? `${label}.` : "";
  const measurements: Measurement[] = [
    { name: `${p}pages`, value: pages, unit: "pages", kind: "exact" },
    { name: `${p}equal_frames`, value: equal, unit: "pages", kind: "exact" },
    { name: `${p}resident_b_after_reading_a`, value: resB.resident, unit: "pages", kind: "exact" },
    { name: `${p}cached_growth_read_a`, value: growthA, unit: "B", kind: "noisy" },
    { name: `${p}cached_growth_read_b`, value: growthB, unit: "B", kind: "noisy" },
  ];
  const summary =
    `${verdict}: frames ${equal}/${pages} equal (${signals.frames}), ` +
    `B resident after reading A ${resB.resident}/${resB.pages} (${signals.residency}), ` +
    `Cached +${kib(growthB)} KiB reading B vs +${kib(growthA)} KiB reading A (${signals.cached})`;
  return {
    verdict,
    signals,
    pages,
    equalFrames: equal,
    residentBAfterA: resB.resident,
    cachedGrowthA: growthA,
    cachedGrowthB: growthB,
    sha256A: ha.sha256,
    sha256B: hb.sha256,
    measurements,
    summary,
  };
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}
