// Does file B share file A's page cache? Gathers the figures in the guest (page frames, residency of B
// after reading A, Cached growth) and hands them to sharing-verdict.ts, which holds the three signals,
// their thresholds and the rule that two must agree and none contradict (otherwise "disagree").
import type { AgentClient } from "../guest/agent-client.ts";
import type { Measurement } from "../report/model.ts";
import { cacheSnapshot, dropCaches } from "./memory.ts";
import { assessSharing, countEqualFrames, type SharingSignals, type SharingVerdict } from "./sharing-verdict.ts";

export type { Signal, SharingVerdict } from "./sharing-verdict.ts";

export interface SharingProbe {
  verdict: SharingVerdict;
  signals: SharingSignals;
  pages: number;
  equalFrames: number;
  residentBAfterA: number;
  cachedGrowthA: number;
  cachedGrowthB: number;
  /** XXH64 of what reading A and B returned */
  xxh64A: string;
  xxh64B: string;
  measurements: Measurement[];
  summary: string;
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
  const figures = {
    pages: fa.pages,
    equalFrames: countEqualFrames(fa.pfns, fb.pfns),
    residentBAfterA: resB.resident,
    pagesB: resB.pages,
    cachedGrowthA: m1.cachedBytes - m0.cachedBytes,
    cachedGrowthB: m2.cachedBytes - m1.cachedBytes,
    size: ha.size,
  };
  const { verdict, signals, measurements, summary } = assessSharing(figures, label);
  return {
    verdict,
    signals,
    pages: figures.pages,
    equalFrames: figures.equalFrames,
    residentBAfterA: figures.residentBAfterA,
    cachedGrowthA: figures.cachedGrowthA,
    cachedGrowthB: figures.cachedGrowthB,
    xxh64A: ha.xxh64,
    xxh64B: hb.xxh64,
    measurements,
    summary,
  };
}
