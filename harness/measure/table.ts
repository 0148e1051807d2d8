// The terminal view of a saving measurement: one row per source and a total (files, data, page cache
// plain / shared / ideal, saving measured vs ideal), and the --per-file list of the largest files that
// should have shared but did not, each with the reason the images give.
import type { FileRecord } from "../images/manifest.ts";
import type { Ideal } from "./ideal.ts";
import { savingPct } from "./ideal.ts";
import { showPath, type FrameCheck, type Mode, type ModeResult } from "./saving.ts";

const MiB = 1 << 20;
const mib = (b: number) => (b / MiB).toFixed(1);
const pct = (v: number) => `${(Math.abs(v) < 0.05 ? 0 : v).toFixed(1)} %`;

export function savingTable(ideal: Ideal, m: Record<Mode, ModeResult>): string {
  const head = ["source", "files", "data MiB", "plain MiB", "shared MiB", "ideal MiB", "saving", "ideal saving"];
  const rows = ideal.sources.map((s, i) => [
    s.label, String(s.files), mib(s.bytes), mib(m.plain.growth[i]), mib(m.shared.growth[i]), mib(s.shared),
    pct(savingPct(m.plain.growth[i], m.shared.growth[i])), pct(savingPct(s.plain, s.shared)),
  ]);
  const t = ideal.total;
  rows.push(["total", String(t.files), mib(t.bytes), mib(m.plain.total), mib(m.shared.total), mib(t.shared), pct(savingPct(m.plain.total, m.shared.total)), pct(ideal.savingPct)]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Why a duplicate did not share, from what the images say about both copies and the mount mode. */
export function notSharedReason(first: FileRecord | undefined, dup: FileRecord | undefined, mode: Mode): string {
  if (mode === "plain") return "sharing off";
  if (first && dup && first.size !== dup.size) return "different size";
  if (!first?.fingerprint || !dup?.fingerprint || first.fingerprint !== dup.fingerprint) return "different fingerprint";
  const compressed = (f: FileRecord) => /compress/i.test(f.layout ?? "");
  if (compressed(first) !== compressed(dup)) return "different address-space operations";
  return "no reason in the images (same size, fingerprint and layout)";
}

/** The largest checked duplicates whose frames were not all their first copy's, with a reason. */
export function perFileLines(checks: FrameCheck[], mode: Mode, lookup: (label: string, path: string) => FileRecord | undefined, limit = 20): string[] {
  const missed = checks.filter((c) => c.equal < c.pages).sort((a, b) => b.duplicate.size - a.duplicate.size);
  if (!missed.length) return [`all ${checks.length} checked duplicate files (largest first) shared their first copy's page frames`];
  return missed.slice(0, limit).map((c) => {
    const d = c.duplicate;
    const why = notSharedReason(lookup(d.firstLabel, d.firstPath), lookup(d.label, d.path), mode);
    return `${mib(d.size).padStart(8)} MiB  ${d.label}:${showPath(d.path)} (same bytes as ${d.firstLabel}:${showPath(d.firstPath)}): ${c.equal}/${c.pages} frames shared — ${why}`;
  });
}
