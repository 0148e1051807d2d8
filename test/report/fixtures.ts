// Hand-built RunResults for the reporter tests: every outcome, a crash, series measurements (an
// M4-like scale chart), findings, and console text with unicode, ANSI escapes and control characters.
import type { CaseResult, RunResult } from "../../harness/report/model.ts";

export function makeCase(over: Partial<CaseResult> & Pick<CaseResult, "id" | "name" | "outcome">): CaseResult {
  return {
    groups: [over.id.replace(/\d+$/, "")],
    tags: [],
    durationMs: 1234,
    checks: [],
    measurements: [],
    crashes: [],
    findings: [],
    artifacts: {},
    ...over,
  };
}

export function makeRun(cases: CaseResult[]): RunResult {
  return {
    schema: "pcshare-results/1",
    startedAt: "2025-01-02T03:04:05.000Z",
    finishedAt: "2025-01-02T03:06:15.500Z",
    host: { hostname: "builder", accel: "kvm", cpus: 2, qemu: "8.2.2", node: "v20.20.2" },
    kernel: {
      source: "debian:sid",
      release: "6.16.0-1-amd64",
      version: "6.16.3-1",
      hashes: { vmlinuz: "a".repeat(64) },
      config: { CONFIG_EROFS_FS: "y", CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y" },
    },
    tools: { "mkfs.erofs": "1.9.4", busybox: "1.35.0" },
    cases,
  };
}

/** Console text with unicode, an ANSI colour, NUL, BEL, VT, a lone surrogate and a <script>. */
export const NASTY_CONSOLE =
  "[    1.0] erofs: mounted ✓ 日本語 🐧\r\n" +
  "\x1b[31mred\x1b[0m\x00nul\x07bel\x0bvt\uD800lone\n" +
  "<script>alert('x')</script> & ]]> `backticks` ```fence```";

/** One case per outcome (7), in OUTCOMES order, plus the details each format has to carry. */
export function fullRun(): RunResult {
  const scale = [1, 2, 4, 8].flatMap((n) => [
    { name: "page_cache", value: n * 0.5 * 1048576 + 1048576, unit: "B", series: "shared", x: n },
    { name: "page_cache", value: n * 1048576, unit: "B", series: "plain", x: n },
    { name: "page_cache", value: 1048576, unit: "B", series: "ideal", x: n },
  ]);
  return makeRun([
    makeCase({
      id: "F1",
      name: "same-domain-shares-frames",
      outcome: "pass",
      checks: [{ name: "same pfn", ok: true, expected: "equal", seen: "equal" }],
      measurements: [{ name: "shared_pages", value: 256, unit: "pages" }],
    }),
    makeCase({
      id: "F2",
      name: "other domain # isolated",
      outcome: "fail",
      reason: "frames shared across domains",
      checks: [
        { name: "pfn differs", ok: false, expected: "pfn A != pfn B", seen: "both 0x1234 <same>" },
        { name: "mounted", ok: true },
      ],
      consoleExcerpt: NASTY_CONSOLE,
      findings: ["domain_id is ignored when inode_share is off"],
    }),
    makeCase({ id: "F3", name: "needs-debug", outcome: "skip", reason: "CONFIG_KASAN not set", durationMs: 0 }),
    makeCase({
      id: "B1",
      name: "known-bug",
      groups: ["B", "regress"],
      outcome: "xfail",
      reason: "known: page refcount leak on umount",
    }),
    makeCase({ id: "B2", name: "fixed-bug", outcome: "xpass", reason: "expected leak did not happen" }),
    makeCase({
      id: "S1",
      name: "umount-race",
      outcome: "error",
      reason: "kernel crashed",
      crashes: [
        {
          kind: "kasan",
          title: "BUG: KASAN: slab-use-after-free in erofs_ishare_free",
          excerpt: "BUG: KASAN: slab-use-after-free in erofs_ishare_free+0x12/0x40\nCall Trace:\n <TASK>",
        },
      ],
      consoleExcerpt: "Kernel panic - not syncing\x1b[0m",
    }),
    makeCase({
      id: "M4",
      name: "scale with mounts",
      outcome: "timeout",
      reason: "guest did not answer within 300 s",
      measurements: [{ name: "mount_time", value: 12.5, unit: "ms" }, ...scale],
      findings: ["page cache grows by 0.5 MiB per extra mount"],
    }),
  ]);
}
