// Owns: the few lines of a kernel report a reader needs in a reply: its title, where it happened
// (the RIP line) and the first reliable frames of its call trace, without time stamps.
import type { CrashReport } from "./model.ts";
import { stripTimestamp } from "../vm/crash.ts";

/** Title, RIP and up to `frames` reliable call-trace frames (else the lines after the title). */
export function crashGist(crash: CrashReport, frames = 3): string[] {
  const lines = (crash.symbolized ?? crash.excerpt).split("\n").map(stripTimestamp).filter((l) => l.trim());
  const at = lines.findIndex((l) => l.includes(crash.title));
  const after = lines.slice(at + 1);
  const rip = after.filter((l) => /\bRIP: /.test(l)).slice(0, 1);
  const trace = after.findIndex((l) => /Call Trace:/.test(l));
  const calls = trace < 0 ? [] : after.slice(trace + 1).filter((l) => !/^\s*(<\/?(TASK|IRQ)>|\? )/.test(l)).slice(0, frames);
  const body = rip.length || calls.length ? [...rip, ...(calls.length ? ["Call Trace:", ...calls] : [])] : after.slice(0, frames + 1);
  return [crash.title, ...body];
}
