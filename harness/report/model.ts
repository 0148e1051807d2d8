// The one result model. Every output format (JSON, KTAP, JUnit, KCIDB, HTML/Markdown) is an export of
// a RunResult; nothing else is read by the exporters. results.json is this object, serialized.

/**
 * The closed set of outcomes (see STYLE.md). error = harness/VM/setup broke; fail = expectation false;
 * missing = selected but never executed (the run stopped before it: images failed to build, a signal,
 * a guest that could not be booted any more).
 */
export type Outcome = "pass" | "fail" | "skip" | "xfail" | "xpass" | "error" | "timeout" | "missing";
export const OUTCOMES: readonly Outcome[] = ["pass", "fail", "skip", "xfail", "xpass", "error", "timeout", "missing"];

/**
 * exact: a correct kernel gives the same value on every run (page counts of a fixed read, bytes of a
 * fixed file, equal-frame counts), so one differing sample is a change. noisy: varies from run to run
 * under TCG (timings, iterations in a fixed time, Cached and memcg deltas), so only repeated samples
 * can show a change.
 */
export type MeasurementKind = "exact" | "noisy";

/** A measured figure. Always a number with its unit ("B", "KiB", "pages", "ms", "s", "%", "count"). */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** exact or noisy; absent means the default of the unit (see measurementKind). */
  kind?: MeasurementKind;
  /** Which direction is better, when one is (a comparison fails on an exact figure moving the other way). */
  better?: "higher" | "lower";
  /** Optional label of the series it belongs to (e.g. "shared" vs "plain" in a scale chart). */
  series?: string;
  /** Optional x coordinate for charts (e.g. number of mounts N). */
  x?: number;
  /** Optional x-axis label for charts (e.g. "mounts (N)"); the first one given in a chart is used. */
  xLabel?: string;
}

/** A measurement's kind: as declared, else noisy for timings (ms, s); undefined when neither says. */
export function measurementKind(m: Pick<Measurement, "kind" | "unit">): MeasurementKind | undefined {
  return m.kind ?? (m.unit === "ms" || m.unit === "s" ? "noisy" : undefined);
}

/** One checked expectation, as kselftest's EXPECT_* / ASSERT_* print it. */
export interface Check {
  name: string;
  ok: boolean;
  expected?: string;
  seen?: string;
}

/** A kernel crash/warning found on the console, with the excerpt that shows it. */
export interface CrashReport {
  kind: string; // panic | oops | bug | warning | kasan | kfence | lockdep | rcu_stall | hung_task | soft_lockup | hard_lockup | busy_inodes | list_corruption | slab_leak (harness/vm/crash.ts)
  title: string; // first line, e.g. "BUG: KASAN: slab-use-after-free in erofs_..."
  excerpt: string; // console lines around it
  /** The excerpt through scripts/decode_stacktrace.sh (file:line per frame), when the kernel has a vmlinux with DWARF. */
  symbolized?: string;
  /** Why symbolizing failed, when it was tried and did. */
  symbolizeError?: string;
}

export interface CaseResult {
  id: string; // e.g. "F1"
  name: string; // e.g. "same-domain-shares-frames"
  groups: string[]; // e.g. ["F"]
  tags: string[];
  concern?: string;
  /** The concern's tag (cases/concerns.ts), for `pcshare concerns`. */
  concernTag?: string;
  outcome: Outcome;
  /** One-line reason for skip/fail/error/timeout/xfail. */
  reason?: string;
  durationMs: number;
  /** Guest-side time of the steps (excludes boot and harness overhead), ms. */
  guestMs?: number;
  checks: Check[];
  measurements: Measurement[];
  crashes: CrashReport[];
  /** Known, documented behaviour difference observed (reported under "findings"). */
  findings: string[];
  /** Console excerpt for failures/errors. */
  consoleExcerpt?: string;
  /** Paths of per-case artifacts relative to the results dir (console log, qemu.cmd, dmesg). */
  artifacts: Record<string, string>;
  /** Which repetition this was (0-based) when --repeat was used. */
  repeat?: number;
  /** The variants of the case this result ran (ids in the case's order), for a case that declares variants. */
  variants?: string[];
  /** True if the case's verdict needs a debug kernel to mean much. */
  needsDebugKernel?: boolean;
  /** The outcome before the known-bugs layer changed it (fail for an xfail, pass for an xpass). */
  rawOutcome?: Outcome;
  /** The reason before the known-bugs layer rewrote it ("" when the case had none). */
  rawReason?: string;
  /** xfail: the registered bugs that explain the whole failure; xpass: the bugs that did not show. */
  knownBugs?: KnownBugMatch[];
  /** How the guest was made clean before the case (absent when it did not run in a guest). */
  cleanState?: CleanState;
}

/** The guest's state measured before a case: no verdict may depend on the case before it. */
export interface CleanState {
  /** Each measurement (mounts, processes, cgroups, dying cgroups, file pages) as last seen. */
  checks: Check[];
  /** What the first look found left by earlier cases ("what: seen"), then undone; empty when clean at once. */
  leftovers: string[];
  /** Rounds of undo + measure on the guest that ran the previous case. */
  rounds: number;
  /** Host time spent, ms. */
  ms: number;
  /** It would not come clean within the bound (checks show what was left): the case ran on a fresh guest. */
  freshGuest: boolean;
}

/** A registered kernel bug (known-bugs/*.yaml) as results carry it. */
export interface KnownBugRef {
  id: string;
  title: string;
  /** File name in known-bugs/. */
  file: string;
  /** Revision of the registration (KCIDB issue version). */
  version: number;
  /** Fires by chance: a pass does not mean it is fixed. */
  race: boolean;
  link?: string;
}

export interface KnownBugMatch extends KnownBugRef {
  /** The parts of the case's failure the bug explains (failed checks, crash reports); empty for an xpass. */
  matched: string[];
}

export interface KernelInfo {
  /** Where it came from: "debian:sid", "path:/x/bzImage", "tree:/src+series". */
  source: string;
  /** uname -r as recorded from the package or build. */
  release: string;
  /** Package version or git describe. */
  version: string;
  /** sha256 of the files that make the kernel (vmlinuz, packages). */
  hashes: Record<string, string>;
  /** Relevant config options, e.g. { CONFIG_EROFS_FS_PAGE_CACHE_SHARE: "y" }. */
  config: Record<string, string>;
  /** For a kernel built with a patch series: what was applied, on what, and the patchset hash. */
  series?: SeriesInfo;
  /** How guests booted it: "pvh" (ELF vmlinux, PVH entry) or "bzimage", and why when not PVH. */
  boot?: "pvh" | "bzimage";
  bootReason?: string;
}

export interface SeriesInfo {
  /** The series as given (mbox, patch file or directory, git range). */
  spec: string;
  /** What it was applied on (Debian package version or git describe of the tree). */
  base: string;
  /** sha256 over the patch diffs, in order. */
  hash: string;
  patches: { subject: string; messageId?: string }[];
}

export interface RunResult {
  schema: "pcshare-results/1";
  startedAt: string; // ISO time
  finishedAt: string;
  /** qemuConfinement: how QEMU ran (vm/confine.ts): sandbox, unprivileged user, chroot. */
  /** driveBus: how the image drives attached (vm/drive-bus.ts; absent in results of an older pcshare, which used virtio-blk). */
  host: { hostname: string; accel: string; cpus: number; qemu: string; node: string; qemuConfinement?: { sandbox: string; user?: string; uid?: number; chroot: boolean; note: string }; driveBus?: "virtio-blk" | "virtio-scsi" };
  kernel: KernelInfo;
  tools: Record<string, string>; // e.g. { "mkfs.erofs": "1.9.4", busybox: "1.35.0" }
  /** Guests that ran cases at once (--jobs); absent in results of runs before it existed (1). */
  jobs?: number;
  /** Seed that chose the variants of rotating cases (runner/variants.ts), when a case has variants. */
  variantSeed?: number;
  /** --all-variants: every variant of every case ran. */
  allVariants?: boolean;
  cases: CaseResult[];
  /** Every guest the run used, in order. */
  boots?: BootRecord[];
  /** The registered bugs that affect this kernel, when the known-bugs layer was applied. */
  knownBugs?: (KnownBugRef & { cases: string[]; variants?: string[] })[];
  /** What is needed to reproduce the run: pcshare's commit, the kernel's source and config, the images' specs. */
  provenance?: Provenance;
  /** This run is shard i of n (`pcshare run --shard`): the split of the whole selection, for `pcshare merge`. */
  shard?: ShardInfo;
  /** This run joins shard runs (`pcshare merge`). */
  merged?: MergeInfo;
}

export interface Provenance {
  /** pcshare itself: `git describe --always --dirty` and the commit of its checkout, else the package version. */
  pcshare: { version: string; describe?: string; commit?: string };
  kernel: {
    /** Where it came from (as KernelInfo.source) and the exact version: Debian package version, or the built tree's base. */
    source: string;
    version: string;
    /** For a built kernel: the tree's git describe or Debian's linux-source version it was built from. */
    base?: string;
    /** For a built kernel: config fragments and their hash. */
    fragments?: string[];
    /** sha256 of the whole kernel config (its CONFIG_ lines, sorted). */
    configSha256: string;
    /** sha256 over the patch series, when one was applied. */
    seriesSha256?: string;
  };
  /** Per image the run attached: the hash of its spec (content, mkfs options, erofs-utils version, builder). */
  images: Record<string, string>;
  /** The machine: hostname, OS, CPU model. */
  host: { hostname: string; os: string; cpu: string };
}

export interface ShardInfo {
  /** 1-based shard number and the number of shards. */
  index: number;
  count: number;
  /** The case ids of the whole selection, in run order. */
  selection: string[];
  /** The case ids of every shard (groups[index - 1] is this one's), in selection order. */
  groups: string[][];
  /** The results files whose durations weighed the cases, or "timeouts" when none did. */
  weighedBy: string[] | "timeouts";
}

export interface MergeInfo {
  /** How many shards were expected. */
  count: number;
  /** Each shard that reported: where its results were and where and when it ran. */
  parts: { index: number; file: string; hostname: string; startedAt: string; finishedAt: string }[];
  /** Shards that never reported: their cases are `missing`. */
  missing: number[];
}

export interface BootRecord {
  /** Host wall clock from QEMU start to agent ready, and the guest's uptime then. */
  hostWallMs: number;
  guestUptimeMs: number;
  /** How long the runner waited for this guest (less than hostWallMs when it booted as a standby). */
  waitedMs: number;
  /** "restore": started from a snapshot of a ready guest (absent in results of an older pcshare: booted). */
  start?: "boot" | "restore";
  /** Why a guest that was to be restored booted instead. */
  restoreProblem?: string;
  /** Host wall clock from QEMU start to each step of the start, ms (vm.ts BootTiming.phasesMs). */
  phasesMs?: { qmp?: number; state?: number; agent: number };
}

/**
 * Outcomes that make a run (and `npm run suite`) exit non-zero. xpass (a registered bug did not show)
 * is expected-but-suspicious: it fails only under --strict (STRICT_FAILING).
 */
/** A result that records no work: nothing checked, measured or crashed (a skip, an unrun or missing case). */
export function resultWithoutWork(
  facts: Pick<CaseResult, "id" | "name" | "groups" | "tags"> & Partial<Pick<CaseResult, "concern" | "concernTag">>,
  outcome: Outcome,
  reason: string | undefined,
  repeat: number | undefined,
): CaseResult {
  return {
    ...facts,
    outcome,
    reason,
    durationMs: 0,
    checks: [],
    measurements: [],
    crashes: [],
    findings: [],
    artifacts: {},
    ...(repeat !== undefined && { repeat }),
  };
}

export const FAILING: ReadonlySet<Outcome> = new Set(["fail", "error", "timeout", "missing"]);
export const STRICT_FAILING: ReadonlySet<Outcome> = new Set([...FAILING, "xpass"]);

/** The failing outcomes for a run with or without --strict. */
export function failingOutcomes(strict: boolean): ReadonlySet<Outcome> {
  return strict ? STRICT_FAILING : FAILING;
}

export function summarize(run: RunResult): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const c of run.cases) counts[c.outcome]++;
  return counts;
}

/** How one case's verdicts came out over the repetitions of a --repeat run. */
export interface CaseStability {
  id: string;
  name: string;
  /** Outcome -> how many repetitions had it. */
  outcomes: Partial<Record<Outcome, number>>;
  /** More than one outcome: the verdict is not reproducible. */
  varies: boolean;
}

/** Per case, the outcomes over repetitions; empty unless the run repeated its cases. */
export function repeatStability(run: RunResult): CaseStability[] {
  const byCase = new Map<string, CaseStability>();
  for (const c of run.cases) {
    if (c.repeat === undefined) continue;
    const s = byCase.get(c.id) ?? { id: c.id, name: c.name, outcomes: {}, varies: false };
    s.outcomes[c.outcome] = (s.outcomes[c.outcome] ?? 0) + 1;
    s.varies = Object.keys(s.outcomes).length > 1;
    byCase.set(c.id, s);
  }
  return [...byCase.values()];
}

/** "7 pass, 3 fail" */
export function outcomeCounts(outcomes: Partial<Record<Outcome, number>>): string {
  return OUTCOMES.filter((o) => outcomes[o]).map((o) => `${outcomes[o]} ${o}`).join(", ");
}
