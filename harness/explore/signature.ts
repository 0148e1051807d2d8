// Owns: what makes two findings "the same": the signature of a program's result (the first kernel
// report's kind and function, else the first disagreement with the model, else how the program
// broke), and whether a registered known bug (known-bugs/*.yaml) explains it on this kernel.
import type { CaseResult, KernelInfo } from "../report/model.ts";
import type { KnownBug } from "../verdict/known-bug-schema.ts";
import { affects, checkMatches, crashFunction, crashMatches } from "../verdict/known-bugs.ts";

/** The signature of a program's result, or undefined when it passed (nothing to report). */
export function signatureOf(c: CaseResult): string | undefined {
  const cr = c.crashes[0];
  if (cr) return `${cr.kind} in ${crashFunction(cr) ?? "(no function)"}`;
  const failed = c.checks.find((k) => !k.ok);
  if (failed) return `disagrees: ${failed.name.split(" @ ")[0]}`;
  if (c.outcome === "error" || c.outcome === "timeout") return `${c.outcome}: ${(c.reason ?? "").split("\n")[0].replace(/\d+/g, "N").slice(0, 120)}`;
  if (c.outcome === "fail") return `fail: ${(c.reason ?? "").split("\n")[0].replace(/\d+/g, "N").slice(0, 120)}`;
  return undefined;
}

/**
 * The registered bugs for this kernel whose crash signature matches one of the result's kernel
 * reports, or one of whose check signatures names a failed check of the program by its name without
 * the step ("mountinfo lists inode_share: expected not listed, seen listed (...)", the part a
 * finding's signature keeps) with a matching seen value. None when any kernel report of the program
 * is one no registered bug names: a registered warning followed by an unregistered oops is a new
 * finding, not the registered one. A bug names reports only when the program shows every report its
 * signature requires (its optional ones alone do not name it).
 */
export function knownBugsOf(c: CaseResult, kernel: KernelInfo, bugs: readonly KnownBug[]): string[] {
  const ids = new Set<string>();
  const failed = c.checks.filter((k) => !k.ok).map((k) => ({ ...k, name: k.name.split(" @ ")[0] }));
  const affecting = bugs.filter((bug) => affects(bug, kernel));
  // A bug's required reports must all be there: a report it lists as optional does not name it alone.
  const complete = affecting.filter((bug) => bug.signature.crashes.filter((s) => !s.optional).every((s) => c.crashes.some((cr) => crashMatches(s, cr))));
  for (const cr of c.crashes) {
    const naming = complete.filter((bug) => bug.signature.crashes.some((s) => crashMatches(s, cr)));
    if (!naming.length) return [];
    for (const bug of naming) ids.add(bug.id);
  }
  for (const bug of affecting) if (failed.some((k) => bug.signature.checks.some((s) => checkMatches(s, k)))) ids.add(bug.id);
  return [...ids];
}
