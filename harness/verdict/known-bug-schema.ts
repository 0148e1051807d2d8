// The shape of one known-bugs/*.yaml file (a registered kernel bug), as a zod schema. What a bug
// affects (kernel versions and config options), which cases show it, and the exact signature that
// identifies it: crash reports (kind + function and/or title pattern) and failed checks (name + seen
// pattern). Patterns are regular expressions matched against the whole text (anchored).
import semver from "semver";
import { z } from "zod";
import { RECORDED_OPTIONS } from "../kernel/kernel.ts";

/** A regular expression source that compiles. */
const pattern = z.string().min(1).refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a valid regular expression" },
);

const fnName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, "a C function name (or none)");

const CRASH_KINDS = [
  "panic", "oops", "bug", "warning", "kasan", "kfence", "lockdep", "rcu_stall", "hung_task",
  "soft_lockup", "hard_lockup", "busy_inodes", "list_corruption", "slab_leak",
] as const;

export const CrashSignatureSchema = z
  .strictObject({
    /** Kind as the crash classifier names it (harness/vm/crash.ts). */
    kind: z.enum(CRASH_KINDS),
    /**
     * The function the report points at: every kernel RIP line's in the report's excerpt (else "at fn+"
     * of a WARNING title; "in fn" of a KASAN/KFENCE title), or "none" for a report that names none.
     * A list: each function the report shows must be one of them.
     */
    function: z.union([fnName, z.array(fnName).min(1)]).optional(),
    /** Functions that must appear in the report's call trace, in this order (not necessarily adjacent). */
    callers: z.array(fnName).min(1).optional(),
    /** Pattern the whole title must match. */
    title: pattern.optional(),
    /** Not every occurrence of the bug prints this report (a race that stops at an earlier one). */
    optional: z.boolean().default(false),
  })
  .refine((s) => s.function !== undefined || s.title !== undefined, {
    message: "a crash signature needs a function or a title pattern (a kind alone matches any crash of that kind)",
  });

export const CheckSignatureSchema = z.strictObject({
  /** The check's name, exactly as the case reports it. */
  name: z.string().min(1),
  /** Pattern the whole seen value must match. */
  seen: pattern,
  optional: z.boolean().default(false),
});

const KernelRangeSchema = z.strictObject({
  /** semver range over the release's leading X.Y.Z, e.g. "7.2.13" or ">=7.2.0 <7.3.0". */
  versions: z.string().refine((r) => semver.validRange(r) !== null, { message: "not a semver range (e.g. \"7.2.13\" or \">=7.2.0 <7.3.0\")" }),
  /** Config options the kernel must have, with their values ("y", "m", "n"); only options results record. */
  config: z
    .record(z.string(), z.string().min(1))
    .superRefine((cfg, ctx) => {
      for (const k of Object.keys(cfg))
        if (!(RECORDED_OPTIONS as readonly string[]).includes(k))
          ctx.addIssue({ code: "custom", path: [k], message: `results record only ${RECORDED_OPTIONS.join(", ")}: an option outside this list can never be checked` });
    })
    .optional(),
});

const EvidenceSchema = z.strictObject({
  /** Results directory (or results.json) of the run that showed it. */
  run: z.string().min(1),
  /** The kernel: release and source, as the run recorded them. */
  kernel: z.string().min(1),
  date: z.iso.date(),
  excerpt: z.string().min(1),
});

export const KnownBugSchema = z
  .strictObject({
    /** Stable id, lower-case words and digits joined by "-"; becomes the KCIDB issue id. */
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "lower-case letters, digits and single dashes"),
    /** Bump when the signature changes (KCIDB issue version). */
    version: z.number().int().min(1).default(1),
    title: z.string().min(1),
    /** Case ids that show the bug. */
    cases: z.array(z.string().regex(/^[A-Z]\d+[a-z]?$/, "a case id such as O3 or I3b")).min(1),
    /**
     * Variants of the cases (e.g. layouts) that show the bug: a result that ran none of them neither
     * explains a failure by it nor counts as an xpass of it. Absent: every variant.
     */
    variants: z.array(z.string().min(1)).min(1).optional(),
    /** Kernels affected: any of these (each: a version range and, optionally, config options). */
    kernels: z.array(KernelRangeSchema).min(1),
    /** Fires by chance (timing): a pass on an affected kernel is an xpass that does not mean it is fixed. */
    race: z.boolean().default(false),
    signature: z
      .strictObject({
        crashes: z.array(CrashSignatureSchema).default([]),
        checks: z.array(CheckSignatureSchema).default([]),
      })
      .refine((s) => s.crashes.length + s.checks.length > 0, { message: "a signature needs at least one crash or check" })
      .refine((s) => [...s.crashes, ...s.checks].some((x) => !x.optional), { message: "at least one part of the signature must be required" }),
    /** Upstream report, mailing-list thread or bug tracker entry. */
    link: z.url().optional(),
    /** How to reproduce outside the suite (commands or a pcshare invocation). */
    reproducer: z.string().min(1).optional(),
    evidence: z.array(EvidenceSchema).min(1),
  })
  .refine((b) => b.link !== undefined || b.reproducer !== undefined, { message: "give a link or a reproducer" });

export type KnownBug = z.infer<typeof KnownBugSchema> & { /** File it came from, relative to the known-bugs directory. */ file: string };
export type CrashSignature = z.infer<typeof CrashSignatureSchema>;
export type CheckSignature = z.infer<typeof CheckSignatureSchema>;
