// Owns: turning a case's recorded steps (runner/steps.ts) and its checks into the step file the
// agent replays in a reproducer bundle's guest (agent/replay.c): the requests in order, the host's
// pauses, pid references to helpers the replay starts itself, and, for each check whose value is a
// field of one reply (an errno name, an XXH64 digest, the bytes of the image's file), what a correct kernel
// replies there, so the guest judges it again. Pure: no I/O.
import type { Check } from "../report/model.ts";
import type { RecordedStep } from "../runner/steps.ts";

/** Pauses shorter than this are the host's own overhead; longer ones are kept (capped). */
const MIN_DELAY_MS = 20;
const MAX_DELAY_MS = 10_000;

export interface GuestExpectation {
  check: string;
  errno?: string;
  field?: string;
  equals?: string;
  frames?: "yes" | "no";
  /** With option and listed: whether /proc/self/mountinfo lists the option for the mount at this dir. */
  mountinfo?: string;
  option?: string;
  listed?: "listed" | "not listed";
}

export interface GuestSteps {
  /** The step file, one request a line. */
  lines: string[];
  /** Per check of the case (same order): the step whose reply the guest judges it by, if any. */
  judged: { check: Check; step?: number }[];
}

const ERRNO = /^(ok|E[A-Z0-9]+)$/;
/** What explore's executor says of two files' page frames (execute.ts). */
const FRAMES_SEEN = new Set(["yes", "no", "partly", "no pages present"]);
/** An XXH64 digest as the agent writes it (read_hash, copy_hash). */
const XXH64 = /^[0-9a-f]{16}$/;

/**
 * The step whose reply check `index` judged: the last reply received before it was recorded; for a
 * check of an XXH64 digest (unique enough to name its reply), the latest earlier reply with that digest,
 * preferring one that read the path the check names (two files with the same bytes).
 */
export function stepOfCheck(steps: readonly RecordedStep[], index: number, check?: Check): RecordedStep | undefined {
  const before = steps.filter((s) => s.checksAtReply !== undefined && s.checksAtReply <= index);
  if (check?.seen && XXH64.test(check.seen)) {
    const withDigest = before.filter((s) => s.reply?.xxh64 === check.seen);
    const named = withDigest.filter((s) => typeof s.request.path === "string" && check.name.includes(s.request.path)).at(-1);
    if (named ?? withDigest.at(-1)) return named ?? withDigest.at(-1);
  }
  return before.at(-1);
}

/** The XXH64 of the file a guest path reads in its image (from the image's manifest), when known. */
export type SourceDigest = (guestPath: string) => string | undefined;

/**
 * The name the guest prints for a check: its name without the value the recorded run saw, which
 * explore's checks carry in their names ("open O_DIRECT: expected EINVAL, seen ok (F3)"); the guest
 * prints what it sees itself, and a replay that passes must not read as if it had seen the failure.
 */
export function guestCheckName(check: Check): string {
  if (check.expected === undefined || check.seen === undefined) return check.name;
  return check.name.replace(`expected ${check.expected}, seen ${check.seen}`, `expected ${check.expected}`);
}

/** The words a check uses for "the bytes the image holds" (explore's model). */
const SOURCE_BYTES = "source bytes";

/**
 * What a correct kernel replies to `step` for `check`, when the check's seen value is a field of that
 * reply: an errno name, an XXH64 digest, or "source bytes" of a read(2) whose source digest the images give.
 */
export function expectationFor(check: Check, step: RecordedStep, sourceDigest: SourceDigest = () => undefined, mountDir?: string): GuestExpectation | undefined {
  const e = expectationOf(check, step, sourceDigest) ?? mountinfoExpectation(check, step, mountDir);
  return e && { ...e, check: guestCheckName(check) };
}

function expectationOf(check: Check, step: RecordedStep, sourceDigest: SourceDigest): Omit<GuestExpectation, "check"> | undefined {
  const reply = step.reply;
  if (!reply || check.expected === undefined || check.seen === undefined) return undefined;
  if (check.expected === SOURCE_BYTES && step.request.op === "read_hash" && typeof step.request.path === "string") {
    const digest = sourceDigest(step.request.path);
    if (digest) return { field: "xxh64", equals: digest };
  }
  const seenErrno = reply.ok === true ? "ok" : typeof reply.errname === "string" ? reply.errname : undefined;
  if (ERRNO.test(check.expected) && seenErrno !== undefined && check.seen === seenErrno) return { errno: check.expected };
  if (XXH64.test(check.expected) && typeof reply.xxh64 === "string" && check.seen === reply.xxh64) {
    return { field: "xxh64", equals: check.expected };
  }
  const pair = step.request.op === "page_frames" && Array.isArray(step.request.paths) && step.request.paths.length === 2;
  if (pair && (check.expected === "yes" || check.expected === "no") && FRAMES_SEEN.has(check.seen)) return { frames: check.expected };
  return undefined;
}

/** What explore's listed-option check says of a mount (options-shown.ts): "listed" or "not listed". */
const LISTED = new Set(["listed", "not listed"]);
const MOUNTINFO_CHECK = /^mountinfo lists ([a-z_]+):/;

/**
 * Explore's "mountinfo lists OPTION" check of a read of /proc/self/mountinfo, judged for the mount
 * at `mountDir` (the target of the last mount or remount before that read, the one the check is about).
 */
function mountinfoExpectation(check: Check, step: RecordedStep, mountDir: string | undefined): Omit<GuestExpectation, "check"> | undefined {
  const option = MOUNTINFO_CHECK.exec(check.name)?.[1];
  if (!option || !mountDir || step.request.op !== "read_file" || step.request.path !== "/proc/self/mountinfo") return undefined;
  if (!LISTED.has(check.expected ?? "") || !LISTED.has(check.seen ?? "")) return undefined;
  return { mountinfo: mountDir, option, listed: check.expected as "listed" | "not listed" };
}

/** The target of the last mount, remount or fspick reconfigure sent up to step `id`. */
export function mountDirAt(steps: readonly RecordedStep[], id: number): string | undefined {
  let dir: string | undefined;
  for (const s of steps) {
    if (s.id > id) break;
    const r = s.request;
    if (r.op === "mount" && typeof r.target === "string") dir = r.target;
    if (r.op === "fs_mount") dir = typeof r.target === "string" ? r.target : typeof r.pick === "string" ? r.pick : dir;
  }
  return dir?.replace(/\/$/, "");
}

/** The guest step file for a recorded case and its checks. */
export function guestSteps(steps: readonly RecordedStep[], checks: readonly Check[], sourceDigest?: SourceDigest): GuestSteps {
  const expectations = new Map<number, GuestExpectation[]>();
  const judged = checks.map((check, i) => {
    const step = stepOfCheck(steps, i, check);
    const e = step && expectationFor(check, step, sourceDigest, mountDirAt(steps, step.id));
    if (!step || !e) return { check };
    expectations.set(step.id, [...(expectations.get(step.id) ?? []), e]);
    return { check, step: step.id };
  });
  const pidFrom = new Map<number, number>(); // pid seen in a reply -> the request id that started it
  const lines = steps.map((s) => {
    const req: Record<string, unknown> = { id: s.id, ...s.request };
    if (s.delayMs >= MIN_DELAY_MS) req._delay_ms = Math.min(s.delayMs, MAX_DELAY_MS);
    if (typeof req.pid === "number" && pidFrom.has(req.pid)) req._pid_of = pidFrom.get(req.pid);
    const e = expectations.get(s.id);
    if (e) req._expect = e;
    if (typeof s.reply?.pid === "number") pidFrom.set(s.reply.pid, s.id);
    return JSON.stringify(req);
  });
  return { lines, judged };
}

/**
 * Guest path -> XXH64 of the image file it names: mounts (recorded mount requests: source device or
 * file-backed copy -> target) joined with each image's files (path -> XXH64).
 */
export function sourceDigestOf(steps: readonly RecordedStep[], files: ReadonlyMap<string, ReadonlyMap<string, string>>): SourceDigest {
  const targets = new Map<string, string>(); // mount target -> image name
  for (const s of steps) {
    const r = s.request;
    if (r.op !== "mount" || typeof r.source !== "string" || typeof r.target !== "string") continue;
    const m = /^\/dev\/disk\/pcshare\/([^/.]+)$/.exec(r.source) ?? /^\/run\/pcshare-backing\/([^/.]+)\.erofs$/.exec(r.source);
    if (m) targets.set(r.target.replace(/\/$/, ""), m[1]);
  }
  return (p) => {
    for (const [target, image] of targets) if (p.startsWith(`${target}/`)) return files.get(image)?.get(p.slice(target.length));
    return undefined;
  };
}
