// `pcshare repro TARGET --out DIR`: a reproducer bundle for a case (run once here), a found case or a
// results.json entry, replayable with nothing but QEMU; prints the summary for a mailing-list reply.
// Exit 0 when the bundle is written, 2 when it cannot be (the reason in one line).
import path from "node:path";
import { existsSync, readdirSync } from "node:fs";
import { ALL_CASES } from "../../cases/index.ts";
import { FOUND_DIR } from "../../cases/found-dir.ts";
import { DEFAULT_SPECS } from "../images/commands.ts";
import { InputError } from "../util/input-error.ts";
import { kernelFrom, intOption, type GuestCliOptions } from "./kernel-options.ts";
import { fromResultsFile, foundDef, parseTarget, ReproError, runForRepro, type ReproSource } from "../repro/source.ts";
import { writeBundle } from "../repro/bundle.ts";
import type { CaseDef } from "../runner/case.ts";
import type { Kernel } from "../kernel/kernel.ts";

export interface ReproCliOptions extends GuestCliOptions {
  out: string;
  case?: string;
  /** false with --no-kernel. */
  kernelIncluded?: boolean;
}

/** Cases whose steps are not all guest requests: a QEMU-only bundle cannot replay them. */
export function notReplayable(def: CaseDef): string | undefined {
  return def.hostSteps && `${def.id} ${def.hostSteps}: a bundle replays only what the guest does, so it cannot reproduce this case`;
}

export async function reproCommand(target: string, opts: ReproCliOptions): Promise<number> {
  const out = path.resolve(opts.out);
  if (existsSync(out) && readdirSync(out).length) throw new InputError(`--out ${opts.out}: not empty; give a new or empty directory for the bundle`);
  const withKernel = opts.kernelIncluded !== false;
  const guest = { memoryMiB: intOption(opts.memory, "--memory"), cpus: intOption(opts.cpus, "--cpus") };
  let src: ReproSource;
  let kernel: Kernel | undefined;
  try {
    const t = parseTarget(target, opts.case, ALL_CASES, FOUND_DIR);
    if (t.kind === "results") {
      src = await fromResultsFile(t.file, t.caseId, ALL_CASES);
      if (src.def) refuse(src.def);
      if (withKernel) kernel = await kernelFrom(opts);
    } else {
      const { def, specs } = t.kind === "found" ? foundDef(t.file) : { def: t.def, specs: DEFAULT_SPECS };
      refuse(def);
      kernel = await kernelFrom(opts);
      process.stdout.write(`pcshare repro: running ${def.id} once on ${kernel.info.release} to record its steps (${path.join(out, "run")})\n`);
      src = await runForRepro(def, specs, kernel, out, guest);
      if (!withKernel) kernel = undefined;
    }
    const { summary, hostJudged } = await writeBundle(src, { outDir: out, kernel, ...guest });
    const outcome = src.result.rawOutcome ?? src.result.outcome;
    if (outcome === "pass") process.stdout.write(`pcshare repro: note: ${src.result.id} passed on this kernel; the bundle replays a passing run\n`);
    if (hostJudged.length && !src.result.crashes.length) {
      process.stdout.write(
        `pcshare repro: note: run.sh replays the steps but cannot judge ${hostJudged.length === 1 ? "this failed check" : `these ${hostJudged.length} failed checks`} by itself (only pcshare judges them; compare the replies on the console with seen.txt): ${hostJudged.join("; ")}\n`,
      );
    }
    process.stdout.write(`pcshare repro: bundle in ${out} (run it: sh ${path.join(out, "run.sh")})\n\n${summary}`);
    return 0;
  } catch (err) {
    if (err instanceof ReproError) throw new InputError(`repro: ${err.message}`);
    throw err;
  }
}

function refuse(def: CaseDef): void {
  const why = notReplayable(def);
  if (why) throw new ReproError(why);
}
