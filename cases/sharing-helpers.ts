// Steps several cases share: find the file two images have in common, probe sharing between two
// mounts and record the probe's figures and integrity checks on the case.
import type { CaseContext, Mounted } from "../harness/runner/context.ts";
import { probeSharing, type SharingProbe, type SharingVerdict } from "../harness/measure/sharing.ts";

/** The first regular file (largest first) with the same content in both images: [pathInA, pathInB, sha256, size]. */
export function commonFile(t: CaseContext, a: string, b: string): { pathA: string; pathB: string; sha256: string; size: number } {
  const inB = new Map(t.image(b).manifest.files.filter((f) => f.type === "file" && f.sha256 && f.size > 0).map((f) => [f.sha256!, f]));
  const candidates = t
    .image(a)
    .manifest.files.filter((f) => f.type === "file" && f.sha256 && f.size > 0 && inB.has(f.sha256) && !f.linkOf)
    .sort((x, y) => y.size - x.size);
  if (!candidates.length) throw new Error(`images ${a} and ${b} have no file in common`);
  const f = candidates[0];
  return { pathA: f.path, pathB: inB.get(f.sha256!)!.path, sha256: f.sha256!, size: f.size };
}

/**
 * Probe sharing of the common file of mounts `ma` and `mb`, check both reads return the source's
 * bytes, record the figures, and check the verdict is `expected`.
 */
export async function expectSharing(t: CaseContext, ma: Mounted, mb: Mounted, expected: SharingVerdict, label = ""): Promise<SharingProbe> {
  const f = commonFile(t, ma.image.name, mb.image.name);
  const probe = await probeSharing(t.agent, ma.path(f.pathA), mb.path(f.pathB), label);
  for (const m of probe.measurements) t.measure(m.name, m.value, m.unit, { ...m, better: m.name.endsWith("equal_frames") ? (expected === "shared" ? "higher" : "lower") : m.better });
  const p = label ? `${label}: ` : "";
  t.expectEqual(`${p}bytes read through A equal the source`, probe.sha256A, f.sha256);
  t.expectEqual(`${p}bytes read through B equal the source`, probe.sha256B, f.sha256);
  t.expect(`${p}sharing verdict is ${expected}`, probe.verdict === expected, { expected, seen: probe.summary });
  return probe;
}
